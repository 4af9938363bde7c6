import {
  count,
  etaText,
  isActive,
  progressOf,
  type Run,
  reasonText,
  requestKindText,
  requestsSent,
  skipped,
} from './run-format.ts';

/** The bar, percent and ETA, and the requests sent so far (429s included). */
export const RunProgress = ({ run, now }: { run: Run; now: number }) => {
  const { value, text } = progressOf(run);
  const eta = isActive(run.status) ? etaText(run.eta, now) : undefined;
  const requests = Object.entries(run.progress.requests);
  return (
    <section class="panel" aria-labelledby="progress-title">
      <h2 id="progress-title">Progress</h2>
      <div class="run-progress">
        {/* Named by the heading, described by the text beside it, which says the same for everyone. */}
        <progress
          id="run-progress-bar"
          max={100}
          value={value}
          aria-labelledby="progress-title"
          aria-describedby="run-progress-text"
        />
        <p id="run-progress-text">
          {text}
          {eta === undefined ? null : `; ${eta}`}
        </p>
      </div>
      <dl class="facts">
        <dt>Requests sent</dt>
        <dd>{count(requestsSent(run))}</dd>
        <dt>Answered 429 (rate limited)</dt>
        <dd>{count(run.progress.throttled)}</dd>
      </dl>
      {requests.length === 0 ? null : (
        <ul class="by-kind">
          {requests.map(([kind, n]) => (
            <li key={kind}>
              {requestKindText(kind)}: {count(n)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
};

/** What happened to the run's contacts: delivered, failed and why, not sent, skipped and why. */
export const RunCounts = ({ run }: { run: Run }) => {
  const p = run.progress;
  const unit = p.unit === 'memberships' ? 'list memberships' : 'contacts';
  const failedReasons = Object.entries(p.failedByReason);
  const planning = run.planning;
  const skippedTotal = skipped(run);
  return (
    <section class="panel" aria-labelledby="counts-title">
      <h2 id="counts-title">Outcome</h2>
      <p class="hint">Delivered, failed and not sent count {unit}; skipped counts profiles.</p>
      <dl class="facts">
        <dt>Delivered</dt>
        <dd>{count(p.accepted)}</dd>
        <dt>Failed</dt>
        <dd>
          {count(p.failed)}
          {failedReasons.length === 0 ? null : (
            <ul class="reasons">
              {failedReasons.map(([reason, n]) => (
                <li key={reason}>
                  {reasonText(reason)}: {count(n)}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Not sent</dt>
        <dd>{count(p.dropped)}</dd>
        <dt>Skipped</dt>
        <dd>
          {skippedTotal === null ? 'Known once planning has read the segments' : count(skippedTotal)}
          {planning === null || skippedTotal === 0 ? null : (
            <ul class="reasons">
              {Object.entries(planning.invalid).map(([reason, n]) => (
                <li key={reason}>
                  {reasonText(reason)}: {count(n)}
                </li>
              ))}
              {planning.overCapProfiles > 0 ? <li>over the cap: {count(planning.overCapProfiles)}</li> : null}
            </ul>
          )}
        </dd>
        {planning === null ? null : (
          <>
            <dt>Unchanged (nothing to send)</dt>
            <dd>{count(planning.unchanged)}</dd>
            <dt>Merged duplicates</dt>
            <dd>{count(planning.merged)}</dd>
          </>
        )}
      </dl>
    </section>
  );
};
