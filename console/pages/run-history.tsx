import { useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from '../components/form.tsx';
import { RunChart } from '../components/run-chart.tsx';
import type { ChartPoint } from '../components/run-chart-model.ts';
import {
  count,
  durationText,
  RUN_STATUS_TEXT,
  type Run,
  requestsSent,
  skipped,
  TRIGGER_TEXT,
  whenText,
} from '../components/run-format.ts';
import { useLoad } from '../components/use-load.ts';
import { href } from '../router.ts';

interface Page {
  runs: Run[];
  next?: string;
}

/** `#/exports/<id>/runs`: the export's runs, newest first, as a table and a small chart. */
export const RunHistoryPage = ({ api, id }: { api: Api; id: string }) => {
  const [exp] = useLoad(() => call(api.GET('/exports/{id}', { params: { path: { id } } })), [api, id]);
  const [first] = useLoad<Page>(
    () => call(api.GET('/exports/{id}/runs', { params: { path: { id } } })),
    [api, id],
  );
  const [older, setOlder] = useState<Page[]>([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const name = exp.state === 'loaded' ? exp.data.name : undefined;
  const pages = first.state === 'loaded' ? [first.data, ...older] : [];
  const runs = pages.flatMap((p) => p.runs);
  const next = pages.at(-1)?.next;

  const loadOlder = async () => {
    if (next === undefined) return;
    setBusy(true);
    setProblem(undefined);
    const result = await call(
      api.GET('/exports/{id}/runs', { params: { path: { id }, query: { cursor: next } } }),
    );
    setBusy(false);
    if (result.ok) setOlder((o) => [...o, result.data]);
    else setProblem(result.problem);
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {name === undefined ? 'Run history' : `Run history: ${name}`}
      </h1>
      <p>
        <a href={href({ page: 'export', id })}>Back to the export</a>
      </p>
      {first.state === 'loading' ? <p aria-live="polite">Loading the runs…</p> : null}
      {first.state === 'failed' ? <ProblemAlert problem={first.problem} /> : null}
      {first.state === 'loaded' && runs.length === 0 ? <p>This export has not run yet.</p> : null}
      {runs.length > 0 ? (
        <>
          <RunChart points={runs.map(toPoint)} />
          <HistoryTable runs={runs} />
          <ProblemAlert problem={problem} />
          {next === undefined ? null : (
            <p>
              <button type="button" disabled={busy} onClick={() => void loadOlder()}>
                {busy ? 'Loading…' : 'Show older runs'}
              </button>
            </p>
          )}
        </>
      ) : null}
    </section>
  );
};

const toPoint = (run: Run): ChartPoint => ({
  label: whenText(run.createdAt),
  sent: run.progress.accepted,
  durationMs: run.durationMs,
});

const HistoryTable = ({ runs }: { runs: Run[] }) => (
  <table class="history">
    <caption>Runs, newest first</caption>
    <thead>
      <tr>
        <th scope="col">When</th>
        <th scope="col">Trigger</th>
        <th scope="col">Dry run</th>
        <th scope="col">Outcome</th>
        <th scope="col">Sent</th>
        <th scope="col">Failed</th>
        <th scope="col">Skipped</th>
        <th scope="col">Requests</th>
        <th scope="col">Duration</th>
        <th scope="col">Details</th>
      </tr>
    </thead>
    <tbody>
      {runs.map((run) => {
        const skippedCount = skipped(run);
        return (
          <tr key={run.id}>
            <th scope="row">{whenText(run.createdAt)}</th>
            <td>{TRIGGER_TEXT[run.trigger]}</td>
            <td>{run.trigger === 'dry-run' ? 'Yes' : 'No'}</td>
            <td>{RUN_STATUS_TEXT[run.status]}</td>
            <td>{count(run.progress.accepted)}</td>
            <td>{count(run.progress.failed)}</td>
            <td>{skippedCount === null ? '—' : count(skippedCount)}</td>
            <td>
              {run.trigger === 'dry-run' && run.dryRun !== null
                ? `${count(run.dryRun.requests)} (would send)`
                : count(requestsSent(run))}
            </td>
            <td>{run.durationMs === null ? '—' : durationText(run.durationMs)}</td>
            <td>
              <a href={href({ page: 'run', id: run.id })}>
                View run<span class="visually-hidden"> of {whenText(run.createdAt)}</span>
              </a>
            </td>
          </tr>
        );
      })}
    </tbody>
  </table>
);
