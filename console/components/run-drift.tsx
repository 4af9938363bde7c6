import { Fragment } from 'preact';
import { driftLines, repairTarget, tagCheckLines, tagsAgreedText } from './drift-text.ts';
import type { Run } from './run-format.ts';

const Facts = ({ lines }: { lines: [string, string][] }) => (
  <dl class="facts">
    {lines.map(([term, value]) => (
      <Fragment key={term}>
        <dt>{term}</dt>
        <dd>{value}</dd>
      </Fragment>
    ))}
  </dl>
);

/**
 * What a run found on its lists or tags. A repair run shows it, saying so until the lists are read; a
 * tag-mode run shows each tag's count, as one line when every count agreed (nothing was read back).
 */
export const RunDrift = ({ run }: { run: Run }) => {
  const target = repairTarget(run);
  const agreed = tagsAgreedText(run);
  if (agreed !== undefined) return <p class="run-tags">{agreed}</p>;
  const tags = run.drift?.tags;
  if (run.repair !== true && !tags?.some((t) => t.readBack)) return null;
  const title =
    target === 'list'
      ? 'Repair: what the lists held'
      : run.repair === true
        ? 'Repair: what the tags held'
        : 'Tags counted / read back';
  return (
    <section class="panel" aria-labelledby="drift-title">
      <h2 id="drift-title">{title}</h2>
      <p>
        {target === 'list'
          ? 'A repair run reads each of its lists back before planning, and fixes what drifted.'
          : run.repair === true
            ? 'A repair run reads each of its tags back before planning, and fixes what drifted.'
            : 'Every run counts each of its tags before planning and reads back only those whose count ' +
              'is off, fixing what drifted.'}
      </p>
      {run.drift === undefined ? (
        <p>The counts show once the {target === 'list' ? 'lists' : 'tags'} are read.</p>
      ) : (
        <>
          {tags === undefined ? null : (
            <>
              <h3>Each tag</h3>
              {tags.some((t) => t.uncertain > 0 || t.foreign > 0) ? (
                <p class="hint">
                  Uncertain: people whose last change got no answer, so either way agrees. Foreign: people
                  tagged by others and left alone.
                </p>
              ) : null}
              <Facts lines={tagCheckLines(tags)} />
              <h3>What the read-back found</h3>
            </>
          )}
          <Facts lines={driftLines(run.drift, target)} />
        </>
      )}
    </section>
  );
};
