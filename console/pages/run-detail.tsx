import { type Api, call } from '../api/client.ts';
import { ProblemAlert } from '../components/form.tsx';
import { RunCancel } from '../components/run-cancel.tsx';
import { DryRunReport, ErrorSamples, RunConfig } from '../components/run-details.tsx';
import { RunDrift } from '../components/run-drift.tsx';
import { canCancel, isActive, RUN_STATUS_TEXT, type Run } from '../components/run-format.ts';
import { RunHold } from '../components/run-hold.tsx';
import { canRetryFailed, namedContactsText } from '../components/run-operations.ts';
import { RunCounts, RunProgress } from '../components/run-progress.tsx';
import { RunRetry } from '../components/run-retry.tsx';
import { useLoad } from '../components/use-load.ts';
import { useRunPoll } from '../components/use-run-poll.ts';
import { href, navigate } from '../router.ts';
import type { Session } from '../session.ts';

/** `#/runs/<id>`: one run, live while it is active. */
// Who may cancel comes with the run itself; the session's role decides whether to offer approval.
export const RunDetailPage = ({ api, session, id }: { api: Api; session: Session; id: string }) => {
  const { run, problem, replace } = useRunPoll(api, id);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {run === undefined ? 'Run' : run.trigger === 'dry-run' ? 'Dry run' : 'Run'}
      </h1>
      {run === undefined && problem === undefined ? <p aria-live="polite">Loading the run…</p> : null}
      {run === undefined ? (
        <ProblemAlert problem={problem} />
      ) : (
        <>
          {problem === undefined ? null : (
            <p class="notice">
              Could not refresh: {problem.detail} Showing what was last read
              {isActive(run.status) && (problem.status === 0 || problem.status >= 500) ? '; retrying.' : '.'}
            </p>
          )}
          <RunBody api={api} run={run} onCancelled={replace} isAdmin={session.role === 'admin'} />
        </>
      )}
    </section>
  );
};

const RunBody = ({
  api,
  run,
  onCancelled,
  isAdmin,
}: {
  api: Api;
  run: Run;
  onCancelled: (run: Run) => void;
  isAdmin: boolean;
}) => {
  // Only for the export's name: the run itself says who may cancel, also once its export is deleted.
  const [exp] = useLoad(
    () => call(api.GET('/exports/{id}', { params: { path: { id: run.exportId } } })),
    [api, run.exportId],
  );
  const loaded = exp.state === 'loaded' ? exp.data : undefined;
  const named = namedContactsText(run);
  return (
    <>
      <p>
        <a href={href({ page: 'export', id: run.exportId })}>Export: {loaded?.name ?? run.exportId}</a>
        {' · '}
        <a href={href({ page: 'export-runs', id: run.exportId })}>Run history</a>
      </p>
      {/* Only the status sits in the live region, so it is announced when it changes, not on every poll. */}
      <p role="status" class="run-status">
        Status: <strong>{RUN_STATUS_TEXT[run.status]}</strong>
        {run.reason === null ? '' : `. ${run.reason}`}
      </p>
      {named === undefined ? null : <p class="run-named">{named}.</p>}
      <RunHold api={api} run={run} isAdmin={isAdmin} onDecided={onCancelled} />
      {run.trigger === 'dry-run' ? null : <RunProgress run={run} now={Date.now()} />}
      <DryRunReport run={run} />
      {run.trigger === 'dry-run' ? null : <RunCounts run={run} />}
      <RunDrift run={run} />
      <ErrorSamples run={run} />
      {canRetryFailed(run, loaded?.permissions.canRun ?? false) ? (
        <RunRetry api={api} run={run} onStarted={(next) => navigate({ page: 'run', id: next.id })} />
      ) : null}
      <RunConfig run={run} exp={loaded} />
      {canCancel(run) ? <RunCancel api={api} run={run} onCancelled={onCancelled} /> : null}
    </>
  );
};
