import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import {
  EXPORT_STATUS_TEXT,
  mayText,
  RUN_STATUS_TEXT,
  runHref,
  whenText,
} from '../components/export-labels.ts';
import type { ExportView } from '../components/export-model.ts';
import { ProblemAlert } from '../components/form.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { type Notice, takeNotice } from '../components/notice.ts';
import { lastRunCountsText } from '../components/run-format.ts';
import { useLoad } from '../components/use-load.ts';
import { href } from '../router.ts';
import type { Session } from '../session.ts';

/** `#/exports`: every export with its connection, segments, schedule, status, health, last run and what the caller may do. */
export const ExportListPage = ({ api, session }: { api: Api; session: Session }) => {
  const [load] = useLoad<ExportView[]>(
    () => call(api.GET('/exports')).then((r) => (r.ok ? { ok: true as const, data: r.data.exports } : r)),
    [api],
  );
  const [segments] = useLoad(() => call(api.GET('/segments')), [api]);
  const [notice] = useState<Notice | undefined>(() => takeNotice());
  const names = new Map(segments.state === 'loaded' ? segments.data.segments.map((s) => [s.id, s.name]) : []);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Exports
      </h1>
      {notice === undefined ? null : (
        <p class="flash" role="status">
          {notice.text}
        </p>
      )}
      {session.role === 'viewer' ? (
        <p>Viewers see exports and their runs; contributors and admins change and run them.</p>
      ) : (
        <p>
          <a class="button" href={href({ page: 'export-new' })}>
            New export
          </a>
        </p>
      )}
      {load.state === 'loading' ? <p aria-live="polite">Loading exports…</p> : null}
      {load.state === 'failed' ? <ProblemAlert problem={load.problem} /> : null}
      {load.state === 'loaded' && load.data.length === 0 ? <p>No exports yet.</p> : null}
      {load.state === 'loaded' && load.data.length > 0 ? (
        <ExportTable rows={load.data} names={names} />
      ) : null}
    </section>
  );
};

const ExportTable = ({ rows, names }: { rows: ExportView[]; names: Map<string, string> }) => (
  <table>
    <caption class="visually-hidden">Exports</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Connection</th>
        <th scope="col">Segments</th>
        <th scope="col">Schedule</th>
        <th scope="col">Status</th>
        <th scope="col">Health</th>
        <th scope="col">Last run</th>
        <th scope="col">You may</th>
      </tr>
    </thead>
    <tbody>
      {rows.map((e) => (
        <tr key={e.id}>
          <th scope="row">
            <a href={href({ page: 'export', id: e.id })}>{e.name}</a>
          </th>
          <td>{e.connection?.displayName ?? 'None'}</td>
          <td>{e.segmentIds.map((id) => names.get(id) ?? id).join(', ')}</td>
          <td>{e.scheduled ? 'On' : 'Off'}</td>
          <td>{EXPORT_STATUS_TEXT[e.status]}</td>
          <td>
            <HealthBadge health={e.health} />
          </td>
          <td>
            {e.lastRun === null ? (
              'Never'
            ) : (
              <a href={runHref(e.lastRun.runId)}>
                {RUN_STATUS_TEXT[e.lastRun.status]}
                {e.lastRun.finishedAt === undefined ? '' : `, ${whenText(e.lastRun.finishedAt)}`}
              </a>
            )}
            {e.lastRun?.counts ? <p class="hint">{lastRunCountsText(e.lastRun.counts)}</p> : null}
          </td>
          <td>{mayText(e.permissions)}</td>
        </tr>
      ))}
    </tbody>
  </table>
);
