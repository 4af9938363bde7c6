import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from './form.tsx';
import { count, type Run } from './run-format.ts';

/**
 * "Retry failed contacts": a new run of the export that sends exactly the contacts that failed in
 * this one. Opens the new run's page once the API has started it.
 */
export const RunRetry = ({ api, run, onStarted }: { api: Api; run: Run; onStarted: (run: Run) => void }) => {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const retry = async () => {
    setBusy(true);
    setProblem(undefined);
    const result = await call(api.POST('/runs/{id}/retry-failed', { params: { path: { id: run.id } } }));
    setBusy(false);
    if (result.ok) onStarted(result.data);
    else setProblem(result.problem);
  };
  return (
    <section class="panel" aria-labelledby="retry-title">
      <h2 id="retry-title">Retry failed contacts</h2>
      <p id="retry-hint">
        {count(run.progress.failed)} failed in this run. A new run sends exactly those contacts again, with
        their current data.
      </p>
      <ProblemAlert problem={problem} />
      <p>
        <button
          type="button"
          disabled={busy}
          aria-busy={busy ? 'true' : undefined}
          aria-describedby="retry-hint"
          onClick={() => void retry()}
        >
          {busy ? 'Starting…' : 'Retry failed contacts'}
        </button>
      </p>
    </section>
  );
};
