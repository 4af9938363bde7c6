import { type AnyConnection, type Api, call, isDetailed } from '../api/client.ts';
import { DetachedExports, DetachedSummary } from '../components/detached-exports.tsx';
import type { ExportView } from '../components/export-model.ts';
import { ProblemAlert } from '../components/form.tsx';
import { KeyHint } from '../components/key-hint.tsx';
import { useLoad } from '../components/use-load.ts';
import { href } from '../router.ts';
import type { Session } from '../session.ts';
import { capText, destinationText, rateText, SHARING_TEXT, STATUS_TEXT } from './labels.ts';

export const ConnectionsListPage = ({
  api,
  session,
  flash,
}: {
  api: Api;
  session: Session;
  flash?: string;
}) => {
  const [load] = useLoad<AnyConnection[]>(
    () =>
      call(api.GET('/connections')).then((r) => (r.ok ? { ok: true as const, data: r.data.connections } : r)),
    [api],
  );
  const admin = session.role === 'admin';
  // Only admins may change an export without a connection, so only they are shown those exports.
  const [exports] = useLoad<ExportView[]>(
    () =>
      admin
        ? call(api.GET('/exports')).then((r) => (r.ok ? { ok: true as const, data: r.data.exports } : r))
        : Promise.resolve({ ok: true as const, data: [] }),
    [api, admin],
  );
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Connections
      </h1>
      {flash === undefined ? null : (
        <p class="flash" role="status">
          {flash}
        </p>
      )}
      {admin ? (
        <p>
          <a class="button" href={href({ page: 'connection-new' })}>
            Add connection
          </a>
        </p>
      ) : (
        <p>Admins manage connections; you see each one's name and type.</p>
      )}
      {load.state === 'loading' ? <p aria-live="polite">Loading connections…</p> : null}
      {load.state === 'failed' ? <ProblemAlert problem={load.problem} /> : null}
      {load.state === 'loaded' && load.data.length === 0 ? <p>No connections yet.</p> : null}
      {admin ? <DetachedSummary load={exports} /> : null}
      {load.state === 'loaded' && load.data.length > 0 ? (
        <ConnectionTable rows={load.data} admin={admin} />
      ) : null}
      {admin ? <DetachedExports load={exports} /> : null}
    </section>
  );
};

const ConnectionTable = ({ rows, admin }: { rows: AnyConnection[]; admin: boolean }) => (
  <table>
    <caption class="visually-hidden">Connections</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Type</th>
        {admin ? null : <th scope="col">You can use it</th>}
        {admin ? (
          <>
            <th scope="col">Status</th>
            <th scope="col">Sharing</th>
            <th scope="col">Rate budget</th>
            <th scope="col">Cap</th>
            <th scope="col">API key</th>
          </>
        ) : null}
      </tr>
    </thead>
    <tbody>
      {rows.map((c) => (
        <tr key={c.id}>
          <th scope="row">
            <a href={href({ page: 'connection', id: c.id })}>{c.displayName}</a>
          </th>
          <td>{destinationText(c)}</td>
          {admin ? null : <td>{c.canUse ? 'Yes' : 'No'}</td>}
          {admin && isDetailed(c) ? (
            <>
              <td>{STATUS_TEXT[c.status]}</td>
              <td>{SHARING_TEXT[c.sharing]}</td>
              <td>{rateText(c.ratePerSecond)}</td>
              <td>{capText(c.cap)}</td>
              <td>
                <KeyHint hint={c.keyHint} unknown="Not shown" />
              </td>
            </>
          ) : null}
        </tr>
      ))}
    </tbody>
  </table>
);
