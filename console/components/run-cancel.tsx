import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from './form.tsx';
import type { Run } from './run-format.ts';

/**
 * Cancel, asked twice: a cancelled run keeps what it already sent, and the rest waits for the next
 * run. The API's answer (the run, now cancelled) replaces the page's copy at once.
 */
export const RunCancel = ({
  api,
  run,
  onCancelled,
}: {
  api: Api;
  run: Run;
  onCancelled: (run: Run) => void;
}) => {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const confirmRef = useRef<HTMLButtonElement>(null);
  // The button that asked is gone once the question shows: focus follows, or a keyboard user is lost.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  const cancel = async () => {
    setBusy(true);
    setProblem(undefined);
    const result = await call(api.POST('/runs/{id}/cancel', { params: { path: { id: run.id } } }));
    setBusy(false);
    setConfirming(false);
    if (result.ok) onCancelled(result.data);
    else setProblem(result.problem);
  };
  return (
    <section class="panel" aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel this run</h2>
      <ProblemAlert problem={problem} />
      {confirming ? (
        <>
          <p id="cancel-warning">
            Contacts already sent stay in Autopilot; the rest are not sent until the next run.
          </p>
          <p>
            <button
              ref={confirmRef}
              type="button"
              class="danger"
              disabled={busy}
              aria-busy={busy ? 'true' : undefined}
              aria-describedby="cancel-warning"
              onClick={() => void cancel()}
            >
              {busy ? 'Cancelling…' : 'Yes, cancel the run'}
            </button>{' '}
            <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(false)}>
              Keep it running
            </button>
          </p>
        </>
      ) : (
        <p>
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Cancel run…
          </button>
        </p>
      )}
    </section>
  );
};
