import { Fragment } from 'preact';
import type { Run } from './run-format.ts';
import { driftLines } from './run-operations.ts';

/** What a repair run found on its lists; until the lists are read, says so instead of zeros. */
export const RunDrift = ({ run }: { run: Run }) => {
  if (run.repair !== true) return null;
  return (
    <section class="panel" aria-labelledby="drift-title">
      <h2 id="drift-title">Repair: what the lists held</h2>
      <p>A repair run reads each of its lists back before planning, and fixes what drifted.</p>
      {run.drift === undefined ? (
        <p>The counts show once the lists are read.</p>
      ) : (
        <dl class="facts">
          {driftLines(run.drift).map(([label, value]) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      )}
    </section>
  );
};
