import { href } from '../router.ts';
import { whenText } from './export-labels.ts';
import type { ExportView } from './export-model.ts';
import { ProblemAlert } from './form.tsx';
import type { Load } from './use-load.ts';

/** Exports without a connection: detached when theirs was removed, or saved before one was chosen. */
export const detachedOf = (exports: readonly ExportView[]): ExportView[] =>
  exports.filter((e) => e.connection === null);

const exportsText = (n: number): string => (n === 1 ? '1 export has' : `${n} exports have`);

/** Under the connections' status: how many exports no connection serves, named below the list. */
export const DetachedSummary = ({ load }: { load: Load<ExportView[]> }) => {
  if (load.state !== 'loaded') return null;
  const count = detachedOf(load.data).length;
  return count === 0 ? null : (
    <p class="notice">{exportsText(count)} no connection and will not run: see “Detached exports” below.</p>
  );
};

/**
 * The exports no connection serves, each linking to its edit page, where a connection can be chosen
 * again (only admins may change an export without a connection, so only they see this).
 */
export const DetachedExports = ({ load }: { load: Load<ExportView[]> }) => {
  if (load.state === 'loading') return null;
  if (load.state === 'failed') return <ProblemAlert problem={load.problem} />;
  const detached = detachedOf(load.data);
  if (detached.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="detached-title">
      <h2 id="detached-title">Detached exports</h2>
      <p>
        These exports have no connection (theirs was removed). They keep their settings and do not run until
        you choose a connection for them.
      </p>
      <ul>
        {detached.map((e) => (
          <li key={e.id}>
            <a href={href({ page: 'export-edit', id: e.id })}>Choose a connection for “{e.name}”</a>{' '}
            <span class="hint">
              (last changed {whenText(e.updatedAt)} by {e.updatedBy})
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
};
