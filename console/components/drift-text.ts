import type { RepairTarget } from './repair-text.ts';
import { count, type Run } from './run-format.ts';

type Drift = NonNullable<Run['drift']>;
type TagCheck = NonNullable<Drift['tags']>[number];

/**
 * Whether a run's drift is about its lists or its segment tags: the membership it started with, or
 * for a run recorded before runs kept their configuration, whether it counted tags.
 */
export const repairTarget = (run: Run): RepairTarget =>
  run.config?.membership === 'tag' || run.drift?.tags !== undefined ? 'tag' : 'list';

const DRIFT_LABELS: Record<RepairTarget, Record<Exclude<keyof Drift, 'tags'>, string>> = {
  list: {
    lists: 'Lists read',
    read: 'Members read',
    missing: 'Missing from a list (joined again)',
    strangerOurs: 'On a list but no longer in the segment (removed as leavers)',
    strangerForeign: 'On a list, never sent by this export',
    foreignRemoved: 'Of those, removed (Remove members the product never sent)',
  },
  tag: {
    lists: 'Tags read back',
    read: 'Tagged people read',
    missing: 'Missing their tag (tagged again)',
    strangerOurs: 'Tagged but no longer in the segment (untagged as leavers)',
    strangerForeign: 'Tagged, never tagged by this export',
    foreignRemoved: 'Of those, untagged (Untag people the product never tagged)',
  },
};

/** A run's findings, each kind in words with its count (zeros included: "none missing" is news). */
export const driftLines = (drift: Drift, target: RepairTarget = 'list'): [label: string, value: string][] => {
  const labels = DRIFT_LABELS[target];
  return [
    [labels.lists, count(drift.lists)],
    [labels.read, count(drift.read)],
    [labels.missing, count(drift.missing)],
    [labels.strangerOurs, count(drift.strangerOurs)],
    [labels.strangerForeign, count(drift.strangerForeign)],
    [labels.foreignRemoved, count(drift.foreignRemoved)],
  ];
};

/** What became of a tag: a count is null on a repair run (it reads every tag) or when it was refused. */
const outcome = (check: TagCheck): string =>
  check.readBack ? 'read back' : check.counted === null ? 'counted again by the next run' : 'as expected';

/** Each tag's count against what the export expects of it, and whether the tag was read back. */
export const tagCheckLines = (tags: readonly TagCheck[]): [tag: string, text: string][] =>
  tags.map((check) => {
    const parts = [
      check.counted !== null
        ? `counted ${count(check.counted)}`
        : check.readBack
          ? 'not counted (a repair reads every tag)'
          : 'could not be counted',
      `expected ${count(check.expected)}`,
    ];
    if (check.uncertain > 0) parts.push(`${count(check.uncertain)} uncertain`);
    if (check.foreign > 0) parts.push(`${count(check.foreign)} foreign`);
    return [check.tag, `${parts.join(', ')}: ${outcome(check)}`];
  });

const tags = (n: number): string => `${count(n)} ${n === 1 ? 'tag' : 'tags'}`;

/**
 * The one line a tag-mode run whose counts all agreed earns instead of a repair panel; undefined
 * when a tag was read back, on a repair run, and before the tags are counted.
 */
export const tagsAgreedText = (run: Run): string | undefined => {
  const checks = run.drift?.tags;
  if (run.repair === true || checks === undefined || checks.length === 0) return undefined;
  if (checks.some((c) => c.readBack)) return undefined;
  const counted = checks.filter((c) => c.counted !== null).length;
  if (counted === 0) return 'No tag could be counted; the next run counts them again.';
  if (counted === checks.length)
    return counted === 1 ? '1 tag counted, as expected.' : `${tags(counted)} counted, all as expected.`;
  const missed = checks.length - counted;
  return (
    `${count(counted)} of ${tags(checks.length)} counted, all as expected; ${count(missed)} could not be ` +
    `counted and the next run counts ${missed === 1 ? 'it' : 'them'} again.`
  );
};
