import type { SnapshotEntry } from '#lib/domain/diff.ts';
import { PermanentError, TransientError } from '#lib/domain/errors.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { DestinationSession, ListRef } from '#lib/ports/destination.ts';
import type { ListRegistry } from '#lib/ports/list-registry.ts';
import { accessConnection, type RequestTally } from '../destination-calls.ts';
import type { Context } from './context.ts';

/** A list with this title exists in the destination, but this product did not create it. */
export class AdoptionRequiredError extends Error {
  override readonly name = 'AdoptionRequiredError';
  constructor(readonly title: string) {
    super(
      `A list titled "${title}" already exists in Autopilot but was not created by autopilot-export on this ` +
        'connection. Give the segment another list title, or have an admin allow this export to adopt ' +
        'existing lists (its members outside the segment will then be removed).',
    );
  }
}

export interface ListContext {
  lists: ListRegistry;
  /** Whether an existing list this product did not create may be taken over (an admin's choice). */
  adopt: boolean;
  session: DestinationSession;
  connectionId: string;
  runId: string;
  clock: Clock;
  /** Wraps each destination call in the retry policy. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
}

const CLAIM_STALE_MS = 2 * 60_000;
const WAIT_STEP_MS = 500;
const WAIT_LIMIT_MS = 30_000;

/**
 * Finds or creates the destination list for each title: the stored id when the list still exists,
 * else (only when an admin allowed adoption) an existing list with that title, else one created
 * under a claim, so two runs never create the same list twice. Costs one listing request plus one
 * per list created.
 */
export const resolveLists = async (ctx: ListContext, titles: readonly string[]): Promise<string[]> => {
  const existing = await ctx.call(() => ctx.session.findLists());
  const known = new Set(existing.map((l) => l.id));
  const resolved = new Map<string, string>();
  const ids: string[] = [];
  for (const title of titles) {
    let id = resolved.get(title);
    if (id === undefined) {
      id = await resolveOne(ctx, title, existing, known);
      resolved.set(title, id);
    }
    ids.push(id);
  }
  return ids;
};

const firstByTitle = (lists: readonly ListRef[], title: string): string | undefined =>
  lists
    .filter((l) => l.title === title)
    .map((l) => l.id)
    .sort()[0];

const resolveOne = async (
  ctx: ListContext,
  title: string,
  existing: ListRef[],
  known: Set<string>,
): Promise<string> => {
  const { lists, connectionId } = ctx;
  const stored = await lists.get(connectionId, title);
  if (stored !== undefined && 'listId' in stored) {
    if (known.has(stored.listId)) return stored.listId;
    // Deleted in Autopilot since we stored it: resolve afresh.
    await lists.forget(connectionId, title);
  }
  const match = firstByTitle(existing, title);
  if (match !== undefined) {
    // A creation claim means this product was creating the list: a create whose answer (or whose
    // saving) was lost left it behind. It is ours, not a list to adopt.
    const ours = stored !== undefined && 'claimedBy' in stored;
    if (!ours && !ctx.adopt) throw new AdoptionRequiredError(title);
    await lists.save(connectionId, title, match);
    return match;
  }
  const started = ctx.clock.now();
  for (;;) {
    const now = ctx.clock.now();
    const claimed = await lists.claim(
      connectionId,
      title,
      ctx.runId,
      new Date(now).toISOString(),
      new Date(now - CLAIM_STALE_MS).toISOString(),
    );
    if (claimed) {
      const list = await createOnce(ctx, title, known);
      await lists.save(connectionId, title, list.id);
      existing.push(list);
      known.add(list.id);
      return list.id;
    }
    const mapping = await lists.get(connectionId, title);
    if (mapping !== undefined && 'listId' in mapping) return mapping.listId;
    if (now - started > WAIT_LIMIT_MS) {
      throw new TransientError(`Another run is still creating the Autopilot list "${title}".`);
    }
    await ctx.clock.sleep(WAIT_STEP_MS);
  }
};

/** A list with `title` that was not there when resolution began: ours, since we hold the claim. */
const createdMeanwhile = (
  lists: readonly ListRef[],
  title: string,
  known: Set<string>,
): ListRef | undefined => lists.find((l) => l.title === title && !known.has(l.id));

/**
 * Creates the list under our claim without ever creating it twice: a create whose answer was lost
 * (a reset or 503 after the write, a garbled 2xx) may have made the list, so before trying again the
 * lists are read back and a new list with the title is taken as the one we made.
 */
const createOnce = async (ctx: ListContext, title: string, known: Set<string>): Promise<ListRef> => {
  let attempts = 0;
  const create = async (): Promise<ListRef> => {
    if (attempts++ > 0) {
      const made = createdMeanwhile(await ctx.session.findLists(), title, known);
      if (made !== undefined) return made;
    }
    return ctx.session.createList(title);
  };
  try {
    return await ctx.call(create);
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    const made = createdMeanwhile(await ctx.call(() => ctx.session.findLists()), title, known);
    if (made === undefined) throw error;
    return made;
  }
};

/** For a dry run: which titles already have a known list (no request is made). */
export const knownLists = async (
  lists: Pick<ListRegistry, 'get'>,
  connectionId: string,
  titles: readonly string[],
): Promise<{ known: number; toCreate: number }> => {
  const distinct = [...new Set(titles)];
  let known = 0;
  for (const title of distinct) {
    const mapping = await lists.get(connectionId, title);
    if (mapping !== undefined && 'listId' in mapping) known++;
  }
  return { known, toCreate: distinct.length - known };
};

/**
 * Resolves this run's lists, and forgets what the snapshot remembers for any segment whose list
 * changed since the last run (deleted in Autopilot and recreated, or retitled): nobody is on a new
 * list yet, so every member must join it again.
 */
export const resolveRunLists = async (
  ctx: Context,
  snapshot: Map<string, SnapshotEntry>,
  tally: RequestTally,
): Promise<string[]> => {
  const { deps, run, exp, connection } = ctx;
  const { session, call } = await accessConnection(deps, connection, tally, {
    remainingMs: ctx.remainingMs,
    reserveMs: deps.settings.reserveMs / 2,
  });
  const listIds = await resolveLists(
    {
      lists: deps.lists,
      adopt: exp.adoptExistingLists,
      session,
      connectionId: connection.id,
      runId: run.id,
      clock: deps.clock,
      call,
    },
    ctx.segments.map((s) => listTitle(exp, s)),
  );
  const remembered = await deps.snapshots.lists(exp.id);
  for (const [i, segmentId] of run.segmentIds.entries()) {
    const listId = listIds[i] ?? '';
    const previous = remembered[segmentId];
    if (previous !== undefined && previous !== listId) {
      const bit = 1 << i;
      for (const [key, entry] of snapshot) {
        if (((entry.segments | (entry.maybe ?? 0)) & bit) === 0) continue;
        snapshot.set(key, {
          ...entry,
          segments: entry.segments & ~bit,
          ...(entry.maybe === undefined ? {} : { maybe: entry.maybe & ~bit }),
        });
      }
      deps.logger.warn('segment list changed since the last run; every member is added to the new list', {
        runId: run.id,
        segmentId,
      });
    }
    await deps.snapshots.setList(exp.id, segmentId, listId);
  }
  return listIds;
};
