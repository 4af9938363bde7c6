import {
  count,
  durationText,
  type ExportView,
  type Run,
  requestKindText,
  TRIGGER_TEXT,
  whenText,
} from './run-format.ts';
import { RunSettingsFacts } from './run-settings.tsx';

/** The run's settings as the run view carries them (frozen when it started; edits since do not apply). */
export const RunConfig = ({ run, exp }: { run: Run; exp: ExportView | undefined }) => {
  return (
    <section class="panel" aria-labelledby="config-title">
      <h2 id="config-title">Configuration</h2>
      <dl class="facts">
        <dt>Export</dt>
        <dd>{exp?.name ?? run.exportId}</dd>
        <dt>Started by</dt>
        <dd>
          {TRIGGER_TEXT[run.trigger]} ({run.requestedBy})
        </dd>
        <dt>Dry run</dt>
        <dd>{run.trigger === 'dry-run' ? 'Yes: nothing is sent' : 'No'}</dd>
        <dt>Started</dt>
        <dd>{whenText(run.createdAt)}</dd>
        {run.finishedAt === null ? null : (
          <>
            <dt>Finished</dt>
            <dd>{whenText(run.finishedAt)}</dd>
          </>
        )}
        {run.durationMs === null ? null : (
          <>
            <dt>Duration</dt>
            <dd>{durationText(run.durationMs)}</dd>
          </>
        )}
        <RunSettingsFacts run={run} />
        {run.estimate === null ? null : (
          <>
            <dt>Rate budget</dt>
            <dd>{run.estimate.ratePerSecond.toLocaleString('en-US')} requests/s</dd>
            <dt>{run.estimate.upperBound ? 'Estimate (upper bound)' : 'Estimate'}</dt>
            <dd>
              {count(run.estimate.totalRequests)} requests, {durationText(run.estimate.seconds * 1000)}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
};

/** A dry run's answer: what a real run would send now, and how long it would take. */
export const DryRunReport = ({ run }: { run: Run }) => {
  const report = run.dryRun;
  if (report === null) return null;
  const kinds = Object.entries(run.estimate?.requests ?? {});
  return (
    <section class="panel" aria-labelledby="dry-run-title">
      <h2 id="dry-run-title">Dry run report: what a real run would send now</h2>
      <dl class="facts">
        <dt>Contacts to add</dt>
        <dd>{count(report.adds)}</dd>
        <dt>Contacts to update</dt>
        <dd>{count(report.updates)}</dd>
        <dt>Removals from lists</dt>
        <dd>{count(report.removals)}</dd>
        <dt>Unchanged</dt>
        <dd>{count(report.unchanged)}</dd>
        <dt>Invalid (skipped)</dt>
        <dd>{count(report.invalid)}</dd>
        <dt>Over the cap</dt>
        <dd>{count(report.overCap)}</dd>
        <dt>Requests</dt>
        <dd>{count(report.requests)}</dd>
        <dt>Duration at the rate budget</dt>
        <dd>{durationText(report.durationSeconds * 1000)}</dd>
        <dt>Duration at Autopilot's documented 5 requests/s</dt>
        <dd>{durationText(report.durationSecondsAtDocumentedRate * 1000)}</dd>
      </dl>
      {kinds.length === 0 ? null : (
        <table>
          <caption>Requests by kind</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Requests</th>
            </tr>
          </thead>
          <tbody>
            {kinds.map(([kind, n]) => (
              <tr key={kind}>
                <th scope="row">{requestKindText(kind)}</th>
                <td>{count(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
};

/** A few failed contacts; the API masks their emails, and the console shows only what it was sent. */
export const ErrorSamples = ({ run }: { run: Run }) =>
  run.errorSamples.length === 0 ? null : (
    <section class="panel" aria-labelledby="samples-title">
      <h2 id="samples-title">Failed contacts (samples)</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Email (masked)</th>
            <th scope="col">Reason</th>
            <th scope="col">Batch</th>
          </tr>
        </thead>
        <tbody>
          {run.errorSamples.map((s, i) => (
            <tr key={`${s.batchNo ?? ''}-${i}`}>
              <td>{s.email}</td>
              <td>{s.reason}</td>
              <td>{s.batchNo === undefined ? '—' : count(s.batchNo)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
