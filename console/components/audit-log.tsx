import { useEffect, useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ACTION_TEXT, type AuditEntry, changeText, detailLines } from './audit-format.ts';
import { runHref, whenText } from './export-labels.ts';
import { ProblemAlert } from './form.tsx';

const PAGE = 20;

/**
 * "Activity": the audit trail of one connection or export, newest first, for admins only (the API
 * answers 403 to anyone else, so the caller renders this only for admins). "Load more" follows the
 * API's cursor.
 */
export const AuditLog = ({
  api,
  resource,
}: {
  api: Api;
  resource: `${'connection' | 'export'}/${string}`;
}) => {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [busy, setBusy] = useState(true);
  const [problem, setProblem] = useState<Problem | undefined>();

  const load = async (cursor: string | undefined) => {
    setBusy(true);
    setProblem(undefined);
    const result = await call(
      api.GET('/audit', { params: { query: { resource, limit: PAGE, ...(cursor ? { cursor } : {}) } } }),
    );
    setBusy(false);
    if (!result.ok) {
      setProblem(result.problem);
      return;
    }
    setEntries((before) =>
      cursor === undefined ? result.data.entries : [...before, ...result.data.entries],
    );
    setNext(result.data.next);
  };
  useEffect(() => {
    void load(undefined);
  }, [api, resource]);

  return (
    <section class="panel" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <ProblemAlert problem={problem} />
      {!busy && problem === undefined && entries.length === 0 ? <p>No activity recorded.</p> : null}
      {entries.length === 0 ? null : (
        <ol class="activity">
          {entries.map((e) => (
            <li key={e.id}>
              <p>
                <strong>{ACTION_TEXT[e.action] ?? e.action}</strong> by {e.actor.id} ({e.actor.role}),{' '}
                {whenText(e.at)}
                {e.runId === undefined ? null : (
                  <>
                    {' '}
                    (<a href={runHref(e.runId)}>the run</a>)
                  </>
                )}
              </p>
              {(e.changes ?? []).length === 0 && detailLines(e.detail).length === 0 ? null : (
                <ul>
                  {(e.changes ?? []).map((c) => (
                    <li key={c.field}>{changeText(c)}</li>
                  ))}
                  {e.moreChanges === undefined ? null : <li>and {e.moreChanges} more changes</li>}
                  {detailLines(e.detail).map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
      {busy && entries.length === 0 ? <p aria-live="polite">Loading activity…</p> : null}
      {next === undefined ? null : (
        <p>
          {/* Kept in place while loading, so focus stays on it for the next page. */}
          <button
            type="button"
            class="secondary"
            disabled={busy}
            aria-busy={busy ? 'true' : undefined}
            onClick={() => void load(next)}
          >
            {busy ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </section>
  );
};
