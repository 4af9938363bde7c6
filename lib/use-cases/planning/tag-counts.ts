import { addRequests } from '#lib/domain/costs.ts';
import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { PermanentError, TransientError } from '#lib/domain/errors.ts';
import { membershipTagName } from '#lib/domain/export-config.ts';
import type { TagCheck } from '#lib/domain/run-record.ts';
import type { DestinationSession } from '#lib/ports/destination.ts';
import type { Context } from './context.ts';

/**
 * The kind the Ortto session reports a tag count under (`tags/get`; tag mode is Ortto's), so a dry
 * run prices the counts under the name a real run's estimate shows them.
 */
export const COUNT_REQUEST_KIND = 'tagsGet';

/** Earlier runs searched for the last foreign counts (a run that ended before counting has none). */
const RUNS_LOOKED_BACK = 10;

/** Tag mode's "list ids": the segment tags, in the run's segment order. */
export const runTags = (ctx: Context): string[] => ctx.segments.map((s) => membershipTagName(ctx.exp, s));

/**
 * Whether this run counts its tags before planning: a tag-mode run over whole segments that makes
 * requests and does not repair (a repair run reads every tag back anyway).
 */
export const countsTags = (ctx: Context): boolean =>
  ctx.exp.membership === 'tag' &&
  ctx.run.trigger !== 'dry-run' &&
  ctx.run.contacts === undefined &&
  ctx.run.repair !== true;

/** A tag-mode dry run makes no request, but its estimate holds the counts a real run makes. */
export const priceCounts = (ctx: Context, requests: Record<string, number>): void => {
  if (ctx.exp.membership === 'tag' && ctx.run.trigger === 'dry-run' && ctx.run.contacts === undefined)
    addRequests(requests, { [COUNT_REQUEST_KIND]: ctx.segments.length });
};

/**
 * Whether a count agrees with the snapshot: every member it is sure of, the foreign people left
 * alone when the tag was last read back, and any of the memberships it does not know. Counting
 * cannot see an untagged member and a stranger tagged in the same interval: they cancel out.
 */
export const agrees = (check: TagCheck): boolean =>
  check.counted === null ||
  (check.counted >= check.expected + check.foreign &&
    check.counted <= check.expected + check.uncertain + check.foreign);

/** Per segment index: the members the snapshot is sure of and the memberships it does not know. */
const snapshotMembers = (snapshot: Map<string, SnapshotEntry>, count: number) => {
  const certain = new Array<number>(count).fill(0);
  const uncertain = new Array<number>(count).fill(0);
  for (const entry of snapshot.values()) {
    const maybe = entry.maybe ?? 0;
    if ((entry.segments | maybe) === 0) continue;
    for (let i = 0; i < count; i++) {
      const bit = 1 << i;
      if (maybe & bit) uncertain[i] = (uncertain[i] ?? 0) + 1;
      else if (entry.segments & bit) certain[i] = (certain[i] ?? 0) + 1;
    }
  }
  return { certain, uncertain };
};

/** Each tag as the snapshot expects it, marked for read-back (what a repair run does with every tag). */
export const repairChecks = (
  ctx: Context,
  snapshot: Map<string, SnapshotEntry>,
  tags: readonly string[],
): TagCheck[] => {
  const { certain, uncertain } = snapshotMembers(snapshot, tags.length);
  return tags.map((tag, i) => ({
    segmentId: ctx.run.segmentIds[i] ?? '',
    tag,
    counted: null,
    expected: certain[i] ?? 0,
    uncertain: uncertain[i] ?? 0,
    foreign: 0,
    readBack: true,
  }));
};

/**
 * Counts each tag in one request and marks for read-back the tags whose count disagrees with the
 * snapshot (docs/ortto.md#verification). Undefined when the session cannot count. A count the
 * destination refuses or cannot give leaves that tag unverified (the next run counts again) rather
 * than stopping the export; a refused key, or time running out, is thrown as from any request.
 */
export const countTags = async (
  ctx: Context,
  snapshot: Map<string, SnapshotEntry>,
  tags: readonly string[],
  session: DestinationSession,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<TagCheck[] | undefined> => {
  const count = session.countMembers?.bind(session);
  if (count === undefined) return undefined;
  const foreign = await rememberedForeign(ctx);
  const checks = repairChecks(ctx, snapshot, tags);
  for (const check of checks) {
    check.counted = (await countOne(ctx, check.tag, () => call(() => count(check.tag)))) ?? null;
    check.foreign = foreign.get(foreignKey(check)) ?? 0;
    check.readBack = !agrees(check);
    // What a read-back finds replaces what was remembered.
    if (check.readBack) check.foreign = 0;
  }
  return checks;
};

const countOne = async (
  ctx: Context,
  tag: string,
  count: () => Promise<number | undefined>,
): Promise<number | undefined> => {
  try {
    return await count();
  } catch (error) {
    if (!(error instanceof PermanentError || error instanceof TransientError)) throw error;
    ctx.deps.logger.warn('a segment tag could not be counted; it is not verified this run', {
      runId: ctx.run.id,
      exportId: ctx.exp.id,
      tag,
      error: error.message,
    });
    return undefined;
  }
};

const foreignKey = (check: Pick<TagCheck, 'segmentId' | 'tag'>): string => `${check.segmentId}\n${check.tag}`;

/**
 * The foreign people each tag carried when it was last read back, from the newest earlier run that
 * checked its tags: left alone (removeForeign off), they would otherwise make every count disagree
 * and every run read the tag back. With removeForeign on, none is left alone.
 */
const rememberedForeign = async (ctx: Context): Promise<Map<string, number>> => {
  const { deps, exp, run } = ctx;
  const remembered = new Map<string, number>();
  if (exp.repair?.removeForeign === true && exp.onLeave === 'remove') return remembered;
  const { runs } = await deps.runs.list(exp.id, RUNS_LOOKED_BACK);
  const last = runs.find((r) => r.id !== run.id && r.drift?.tags !== undefined);
  for (const check of last?.drift?.tags ?? []) remembered.set(foreignKey(check), check.foreign);
  return remembered;
};
