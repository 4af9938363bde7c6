import { ContactCollector } from '#lib/domain/collector.ts';
import { bitsOf, decide, type SnapshotEntry } from '#lib/domain/diff.ts';
import type { DataMatching } from '#lib/domain/export-config.ts';
import { contentHash } from '#lib/domain/hash.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { type SampleDataset, sampleSegmentMembers, toSourceProfile } from '#local/sample-data.ts';

/** Each distinct contact's content hash and segment mask, as the planner's diff would see the dataset (docs/architecture.md#planning). */
export const contactsOf = (dataset: SampleDataset, matching: DataMatching): Map<string, SnapshotEntry> => {
  const collector = new ContactCollector({
    segmentIds: dataset.segments.map((s) => s.id),
    cap: Number.MAX_SAFE_INTEGER,
    policy: 'fail',
  });
  dataset.segments.forEach((segment, i) => {
    for (const p of sampleSegmentMembers(dataset, segment.id)) {
      const profile = toSourceProfile(p);
      collector.add(i, profile.id, mapProfile(profile, matching));
    }
  });
  return new Map(
    [...collector.contacts].map(([key, c]) => [key, { hash: contentHash(c.data), segments: c.segments }]),
  );
};

export interface Floor {
  /** Whole requests: each bulk group rounded up (a request cannot be split). */
  requests: number;
  /** List mode: the title lookup and the creation of lists that do not exist yet (docs/architecture.md#planning). */
  listSetup: number;
  /**
   * List mode with bulk membership: the two membership checks by which a run confirms, itself, that
   * bulk upserts honour the list (docs/architecture.md#probe) before counting a join as accepted.
   */
  probeChecks: number;
  joins: number;
  leaves: number;
  changedWithoutJoin: number;
  writes: number;
}

/**
 * The fewest requests the cost model (docs/architecture.md#cost-model) allows for going from
 * `before` to `after`: a join costs one request (1/100 when bulk membership works), a leave one, a
 * changed contact 1/100, an unchanged one nothing; in field mode every written contact 1/100. List
 * mode also resolves its lists as planning does (docs/architecture.md#planning): one lookup by title
 * per run, one creation per list that does not exist yet; a run that joins contacts by bulk upsert
 * first confirms that bulk membership works with two membership checks (a witness not on the list
 * before, on it after), because a join is never counted on an earlier run's belief.
 * Computed from the data, not from the run. What the exporter adds on top (the first probe that
 * learns the answer, extra witness checks, retries, 429s) counts against it.
 */
export const floorOf = (
  before: Map<string, SnapshotEntry>,
  after: Map<string, SnapshotEntry>,
  options: { mode: 'list' | 'field'; bulkMembership: boolean; segmentCount: number; listsToCreate: number },
): Floor => {
  const keys = new Set([...before.keys(), ...after.keys()]);
  let leaves = 0;
  let changedWithoutJoin = 0;
  let writes = 0;
  const joinsPerSegment = Array.from({ length: options.segmentCount }, () => 0);
  for (const key of keys) {
    const d = decide(after.get(key), before.get(key));
    const joins = bitsOf(d.joins, options.segmentCount);
    for (const i of joins) joinsPerSegment[i] = (joinsPerSegment[i] ?? 0) + 1;
    leaves += bitsOf(d.leaves, options.segmentCount).length;
    const changed = d.change === 'added' || d.change === 'changed';
    if (changed && joins.length === 0) changedWithoutJoin++;
    if (changed || d.joins !== 0 || d.leaves !== 0) writes++;
  }
  const joins = joinsPerSegment.reduce((a, b) => a + b, 0);
  const listSetup = options.mode === 'list' ? 1 + options.listsToCreate : 0;
  const probeChecks = options.mode === 'list' && options.bulkMembership && joins > 0 ? 2 : 0;
  const requests =
    options.mode === 'field'
      ? Math.ceil(writes / 100)
      : (options.bulkMembership ? joinsPerSegment.reduce((n, j) => n + Math.ceil(j / 100), 0) : joins) +
        leaves +
        Math.ceil(changedWithoutJoin / 100) +
        listSetup +
        probeChecks;
  return { requests, listSetup, probeChecks, joins, leaves, changedWithoutJoin, writes };
};
