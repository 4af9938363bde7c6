import { type AnyConnection, type Api, call } from '../api/client.ts';
import { ProblemAlert } from '../components/form.tsx';
import { useLoad } from '../components/use-load.ts';
import { href } from '../router.ts';
import { ExportEditor } from './export-editor.tsx';

/** `#/exports/new` and `#/exports/<id>/edit`: the connections the caller may use, and the export. */
export const ExportEditPage = ({ api, id }: { api: Api; id?: string | undefined }) => {
  const [connections] = useLoad<AnyConnection[]>(
    () =>
      call(api.GET('/connections')).then((r) => (r.ok ? { ok: true as const, data: r.data.connections } : r)),
    [api],
  );
  const [existing, reload] = useLoad(
    () =>
      id === undefined
        ? Promise.resolve({ ok: true as const, data: undefined })
        : call(api.GET('/exports/{id}', { params: { path: { id } } })),
    [api, id],
  );
  const title =
    id === undefined
      ? 'New export'
      : existing.state === 'loaded'
        ? `Edit ${existing.data?.name}`
        : 'Edit export';
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p>
        {id === undefined ? (
          <a href={href({ page: 'exports' })}>Back to exports</a>
        ) : (
          <a href={href({ page: 'export', id })}>Back to the export</a>
        )}
      </p>
      {connections.state === 'loading' || existing.state === 'loading' ? (
        <p aria-live="polite">Loading…</p>
      ) : null}
      {connections.state === 'failed' ? <ProblemAlert problem={connections.problem} /> : null}
      {existing.state === 'failed' ? <ProblemAlert problem={existing.problem} /> : null}
      {connections.state === 'loaded' && existing.state === 'loaded' ? (
        existing.data !== undefined && !existing.data.permissions.canEdit ? (
          <p>You may not change this export.</p>
        ) : (
          <ExportEditor
            key={existing.data?.version ?? 0}
            api={api}
            loaded={existing.data}
            connections={connections.data.filter((c) => c.canUse || c.id === existing.data?.connectionId)}
            onReload={reload}
          />
        )
      ) : null}
    </section>
  );
};
