import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import { AuditLog } from '../components/audit-log.tsx';
import { ContactResend } from '../components/contact-resend.tsx';
import {
  EXPORT_STATUS_TEXT,
  RUN_STATUS_TEXT,
  runHref,
  runsHref,
  whenText,
} from '../components/export-labels.ts';
import type { ExportView } from '../components/export-model.ts';
import { ProblemAlert } from '../components/form.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { type Notice, takeNotice } from '../components/notice.ts';
import { useLoad } from '../components/use-load.ts';
import { takeWebhookSecret } from '../components/webhook-secret.ts';
import { WebhookSecretPanel } from '../components/webhook-secret-panel.tsx';
import { href } from '../router.ts';
import type { Session } from '../session.ts';
import { ExportActions } from './export-actions.tsx';
import { ExportSettings } from './export-settings.tsx';

/** `#/exports/<id>`: the settings read-only, the last run, and what the caller may do. */
export const ExportDetailPage = ({ api, session, id }: { api: Api; session: Session; id: string }) => {
  const [load, reload] = useLoad(
    () => call(api.GET('/exports/{id}', { params: { path: { id } } })),
    [api, id],
  );
  const [segments] = useLoad(() => call(api.GET('/segments')), [api]);
  const [notice, setNotice] = useState<Notice | undefined>(() => takeNotice());
  const [secret, setSecret] = useState<string | undefined>(() => takeWebhookSecret(id));
  const names = new Map(segments.state === 'loaded' ? segments.data.segments.map((s) => [s.id, s.name]) : []);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {load.state === 'loaded' ? load.data.name : 'Export'}
      </h1>
      <p>
        <a href={href({ page: 'exports' })}>Back to exports</a>
      </p>
      {notice === undefined ? null : (
        <div class="flash" role="status">
          <p>{notice.text}</p>
          {notice.details.length === 0 ? null : (
            <ul>
              {notice.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {secret === undefined ? null : (
        <WebhookSecretPanel secret={secret} onDismiss={() => setSecret(undefined)} />
      )}
      {load.state === 'loading' ? <p aria-live="polite">Loading the export…</p> : null}
      {load.state === 'failed' ? <ProblemAlert problem={load.problem} /> : null}
      {load.state === 'loaded' ? (
        <>
          <p>
            Status: {EXPORT_STATUS_TEXT[load.data.status]}. <LastRun exp={load.data} />{' '}
            <a href={runsHref(load.data.id)}>Run history</a>
          </p>
          <p>
            Health: <HealthBadge health={load.data.health} />
          </p>
          <ExportSettings exp={load.data} segmentNames={names} />
          <ExportActions
            api={api}
            exp={load.data}
            onChanged={(text) => {
              setNotice({ text, details: [] });
              reload();
            }}
          />
          {load.data.permissions.canRun ? <ContactResend api={api} exportId={load.data.id} /> : null}
          {/* Admins only: the API answers 403 to anyone else. Keyed so a save shows its entry. */}
          {session.role === 'admin' ? (
            <AuditLog key={load.data.version} api={api} resource={`export/${load.data.id}`} />
          ) : null}
        </>
      ) : null}
    </section>
  );
};

const LastRun = ({ exp }: { exp: ExportView }) =>
  exp.lastRun === null ? (
    <>Never run.</>
  ) : (
    <>
      Last run:{' '}
      <a href={runHref(exp.lastRun.runId)}>
        {RUN_STATUS_TEXT[exp.lastRun.status]}
        {exp.lastRun.finishedAt === undefined ? '' : `, ${whenText(exp.lastRun.finishedAt)}`}
      </a>
      .
    </>
  );
