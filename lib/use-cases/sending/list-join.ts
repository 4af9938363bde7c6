import { type BulkMembership, capabilityAt, type JoinItem } from '#lib/domain/plan.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { ContactResult, DestinationSession } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Connection, StateStore } from '#lib/ports/state-store.ts';

export interface JoinContext {
  store: StateStore;
  session: DestinationSession;
  connection: Connection;
  /** Who claims the probe: this batch (`runId#batchNo`). */
  claimant: string;
  clock: Clock;
  logger: Logger;
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Re-probe when the last answer is older than this. */
  recheckMs: number;
  /** How long to wait for another sender's probe before taking the safe path. */
  probeWaitMs: number;
}

const PROBE_STALE_MS = 2 * 60_000;
const POLL_MS = 50;

/** One request per contact: upsert carrying the list (works whatever bulk does). */
const oneByOne = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
): Promise<ContactResult[]> => {
  const results: ContactResult[] = [];
  for (const item of items) results.push(await ctx.call(() => ctx.session.upsertIntoList(item.data, listId)));
  return results;
};

const bulk = (ctx: JoinContext, items: readonly JoinItem[], listId: string): Promise<ContactResult[]> =>
  ctx.call(() =>
    ctx.session.upsertMany(
      items.map((i) => i.data),
      listId,
    ),
  );

/**
 * The bulk-membership probe (DESIGN.md §2): sends this batch as one bulk upsert carrying the list,
 * then checks one accepted contact's membership. If it is on the list, bulk membership works and
 * the batch is done; if not, the batch's contacts are added one by one, so nothing is lost either
 * way. The answer is stored on the connection for every later batch.
 */
const probe = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
): Promise<ContactResult[]> => {
  const { store, connection, claimant, clock } = ctx;
  let settled = false;
  try {
    const results = await bulk(ctx, items, listId);
    const witness = results.find((r) => r.ok);
    if (witness === undefined) return results; // nothing accepted: nothing learnt, claim released below
    const member = await ctx.call(() => ctx.session.isMember(listId, witness.email));
    const answer = member ? 'supported' : 'unsupported';
    await store.settleProbe(connection.id, claimant, answer, new Date(clock.now()).toISOString());
    settled = true;
    ctx.logger.info('bulk membership probed', { connectionId: connection.id, answer });
    if (member) return results;
    const accepted = items.filter((_, i) => results[i]?.ok);
    const added = await oneByOne(ctx, accepted, listId);
    const byEmail = new Map(added.map((r) => [r.email.toLowerCase(), r]));
    return results.map((r) => (r.ok ? (byEmail.get(r.email.toLowerCase()) ?? r) : r));
  } finally {
    if (!settled)
      await store.settleProbe(connection.id, claimant, 'unknown', new Date(clock.now()).toISOString());
  }
};

/** Waits briefly for another sender's probe; returns its answer, or unknown if it takes too long. */
const awaitProbe = async (ctx: JoinContext): Promise<BulkMembership> => {
  const deadline = ctx.clock.now() + ctx.probeWaitMs;
  while (ctx.clock.now() < deadline) {
    await ctx.clock.sleep(POLL_MS);
    const latest = await ctx.store.getConnection(ctx.connection.id);
    if (latest === undefined) return 'unknown';
    const capability = capabilityAt(latest.bulkMembership, ctx.clock.now(), ctx.recheckMs);
    if (capability !== 'unknown') return capability;
    if (latest.bulkMembership.probe === undefined) break;
  }
  return 'unknown';
};

/** Puts a batch of contacts on a list by the cheapest path the connection is known to support. */
export const joinList = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
): Promise<ContactResult[]> => {
  const now = ctx.clock.now();
  let capability = capabilityAt(ctx.connection.bulkMembership, now, ctx.recheckMs);
  if (capability === 'unknown') {
    const claimed = await ctx.store.claimProbe(ctx.connection.id, ctx.claimant, {
      now: new Date(now).toISOString(),
      claimStaleBefore: new Date(now - PROBE_STALE_MS).toISOString(),
      answerStaleBefore: new Date(now - ctx.recheckMs).toISOString(),
    });
    if (claimed) return probe(ctx, items, listId);
    capability = await awaitProbe(ctx);
  }
  return capability === 'supported' ? bulk(ctx, items, listId) : oneByOne(ctx, items, listId);
};
