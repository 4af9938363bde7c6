import { useState } from 'preact/hooks';
import { type Api, type Connection, call, type Schemas } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from '../components/form.tsx';
import { useLoad } from '../components/use-load.ts';
import { navigate } from '../router.ts';

/**
 * Removal, with the exports that use the connection in view: the API refuses while any does,
 * unless they are detached (they keep their settings and wait for another connection).
 */
export const ConnectionRemove = ({
  api,
  connection,
  onRemoved,
}: {
  api: Api;
  connection: Connection;
  onRemoved: (message: string) => void;
}) => {
  const [users] = useLoad<Schemas['Export'][]>(
    () =>
      call(api.GET('/exports')).then((r) =>
        r.ok
          ? { ok: true as const, data: r.data.exports.filter((e) => e.connection?.id === connection.id) }
          : r,
      ),
    [api, connection.id],
  );
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const count = users.state === 'loaded' ? users.data.length : 0;

  const remove = async () => {
    setBusy(true);
    setProblem(undefined);
    const result = await call(
      api.DELETE('/connections/{id}', {
        params: { path: { id: connection.id }, query: count > 0 ? { detach: 'true' } : {} },
      }),
    );
    setBusy(false);
    if (!result.ok) {
      setProblem(result.problem);
      return;
    }
    const detached = result.data.detached.length;
    onRemoved(
      `Removed "${connection.displayName}"${detached > 0 ? `; ${detached} export(s) detached` : ''}.`,
    );
    navigate({ page: 'connections' });
  };

  return (
    <section class="panel" aria-labelledby="remove-title">
      <h2 id="remove-title">Remove this connection</h2>
      {users.state === 'loading' ? <p>Looking for exports that use it…</p> : null}
      {users.state === 'failed' ? <ProblemAlert problem={users.problem} /> : null}
      {users.state === 'loaded' && count === 0 ? <p>No export uses it.</p> : null}
      {users.state === 'loaded' && count > 0 ? (
        <>
          <p>
            {count} export(s) use it. Removing it detaches them: they keep their settings and do not run until
            you attach another connection.
          </p>
          <ul>
            {users.data.map((e) => (
              <li key={e.id}>{e.name}</li>
            ))}
          </ul>
        </>
      ) : null}
      <ProblemAlert problem={problem} />
      {confirming ? (
        <p>
          <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>
            {busy ? 'Removing…' : count > 0 ? `Detach ${count} export(s) and remove` : 'Yes, remove it'}
          </button>{' '}
          <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </p>
      ) : (
        <button
          type="button"
          class="danger"
          onClick={() => setConfirming(true)}
          disabled={users.state === 'loading'}
        >
          Remove connection…
        </button>
      )}
    </section>
  );
};
