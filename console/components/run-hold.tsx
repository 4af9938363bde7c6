import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from './form.tsx';
import type { Run } from './run-format.ts';

type Decision = 'approve' | 'reject';

const DECISION_TEXT: Record<Decision, { ask: string; warning: string; busy: string }> = {
  approve: {
    ask: 'Yes, send the removals',
    warning: 'These contacts are removed from the lists above in Autopilot. Nothing is planned again.',
    busy: 'Approving…',
  },
  reject: {
    ask: 'Yes, reject the removals',
    warning:
      'Nothing is removed; the run completes and counts them as not sent. The next run finds the same ' +
      'leavers and is held again unless the segment recovers.',
    busy: 'Rejecting…',
  },
};

const n = (value: number): string => value.toLocaleString('en-US');

/**
 * A run the removal guardrail held: what it would remove from each list or field, and (admins) the
 * decision, asked twice. The API's answer replaces the page's copy at once.
 */
export const RunHold = ({
  api,
  run,
  isAdmin,
  onDecided,
}: {
  api: Api;
  run: Run;
  isAdmin: boolean;
  onDecided: (run: Run) => void;
}) => {
  const [confirming, setConfirming] = useState<Decision | undefined>();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const confirmRef = useRef<HTMLButtonElement>(null);
  // The button that asked is gone once the question shows: focus follows, or a keyboard user is lost.
  useEffect(() => {
    if (confirming !== undefined) confirmRef.current?.focus();
  }, [confirming]);
  const hold = run.hold;
  if (hold === undefined) return null;
  const waiting = run.status === 'awaiting_approval';
  const decide = async (decision: Decision) => {
    setBusy(true);
    setProblem(undefined);
    const params = { params: { path: { id: run.id } } };
    const result = await call(
      decision === 'approve' ? api.POST('/runs/{id}/approve', params) : api.POST('/runs/{id}/reject', params),
    );
    setBusy(false);
    setConfirming(undefined);
    if (result.ok) onDecided(result.data);
    else setProblem(result.problem);
  };
  return (
    <section class="panel" aria-labelledby="hold-title">
      <h2 id="hold-title">{waiting ? 'Removals awaiting approval' : 'Removals held by the guardrail'}</h2>
      <p>
        {n(hold.removals)} removals were held because they exceed this export’s removal guardrail.
        {waiting ? ' Joins and updates were sent; nothing has been removed.' : ''}
      </p>
      <table>
        <caption class="visually-hidden">Removals per list or field</caption>
        <thead>
          <tr>
            <th scope="col">List or field</th>
            <th scope="col">Members before</th>
            <th scope="col">Removals</th>
            <th scope="col">Over the threshold</th>
          </tr>
        </thead>
        <tbody>
          {hold.targets.map((t) => (
            <tr key={t.segmentId}>
              <th scope="row">{t.target}</th>
              <td>{n(t.members)}</td>
              <td>{n(t.removals)}</td>
              <td>{t.exceeds ? 'Yes' : 'No'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {hold.decision === undefined ? null : (
        <p>
          {hold.decision.outcome === 'approved' ? 'Approved' : 'Rejected'} by {hold.decision.by} at{' '}
          {new Date(hold.decision.at).toLocaleString()}.
        </p>
      )}
      <ProblemAlert problem={problem} />
      {!waiting ? null : !isAdmin ? (
        <p>An admin approves or rejects these removals.</p>
      ) : confirming === undefined ? (
        <p>
          <button type="button" class="danger" onClick={() => setConfirming('approve')}>
            Approve removals…
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming('reject')}>
            Reject removals…
          </button>
        </p>
      ) : (
        <>
          <p id="hold-warning">{DECISION_TEXT[confirming].warning}</p>
          <p>
            <button
              ref={confirmRef}
              type="button"
              class={confirming === 'approve' ? 'danger' : undefined}
              disabled={busy}
              aria-busy={busy ? 'true' : undefined}
              aria-describedby="hold-warning"
              onClick={() => void decide(confirming)}
            >
              {busy ? DECISION_TEXT[confirming].busy : DECISION_TEXT[confirming].ask}
            </button>{' '}
            <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(undefined)}>
              Not now
            </button>
          </p>
        </>
      )}
    </section>
  );
};
