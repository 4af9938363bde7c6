import type { Connection } from '#lib/domain/connection.ts';
import { type BulkMembership, capabilityAt } from '#lib/domain/costs.ts';
import { PermanentError } from '#lib/domain/errors.ts';
import type { JoinItem } from '#lib/domain/plan.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { ContactResult, DestinationSession } from '#lib/ports/destination.ts';
import type { Logger } from '#lib/ports/logger.ts';
import { sendPipelined } from './pipelined.ts';
import { rejectedAll } from './rejections.ts';

export interface JoinContext {
  connections: Pick<Connections, 'get' | 'claimProbe' | 'settleProbe'>;
  session: DestinationSession;
  connection: Connection;
  runId: string;
  /** Who claims the probe: this batch (`runId#batchNo`). */
  claimant: string;
  clock: Clock;
  logger: Logger;
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Re-probe when the last answer is older than this. */
  recheckMs: number;
  /** How long to wait for another sender's probe before taking the safe path. */
  probeWaitMs: number;
  /** Requests the one-by-one path may have in flight (default 1: one after another). */
  inFlight?: () => number;
  /** Sends nothing more once the one-by-one path failed (see ConnectionAccess.halt). */
  halt?: () => void;
}

const sequential = (): number => 1;

const PROBE_STALE_MS = 2 * 60_000;
const POLL_MS = 50;
/** Contacts of a batch checked for one not yet on the list, to witness the bulk write. */
const WITNESS_CANDIDATES = 3;

/**
 * What this run may rely on. `supported` holds only once this run's own probe confirmed it: an answer
 * an earlier run found is a belief about the destination, re-checked against evidence each run.
 */
export const capabilityForRun = (
  bulkMembership: Connection['bulkMembership'],
  runId: string,
  now: number,
  recheckMs: number,
): BulkMembership => {
  const capability = capabilityAt(bulkMembership, now, recheckMs);
  return capability === 'supported' && bulkMembership.verifiedRun !== runId ? 'unknown' : capability;
};

/**
 * One request per contact (upsert carrying the list): works whatever bulk does. Several are in
 * flight at once; results are pushed in item order as they form a prefix.
 */
const oneByOne = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
  into: ContactResult[],
): Promise<void> =>
  sendPipelined(
    items,
    (item) => ctx.call(() => ctx.session.upsertIntoList(item.data, listId)),
    into,
    ctx.inFlight ?? sequential,
    ctx.halt,
  );

const bulk = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
): Promise<ContactResult[]> => {
  try {
    return await ctx.call(() =>
      ctx.session.upsertMany(
        items.map((i) => i.data),
        listId,
      ),
    );
  } catch (error) {
    if (error instanceof PermanentError)
      return rejectedAll(
        items.map((i) => i.data.email),
        error,
      );
    throw error;
  }
};

const isMember = async (ctx: JoinContext, listId: string, email: string): Promise<boolean | undefined> => {
  try {
    return await ctx.call(() => ctx.session.isMember(listId, email));
  } catch (error) {
    if (error instanceof PermanentError) return undefined;
    throw error;
  }
};

/** A contact of the batch that is provably not on the list yet: the only fair witness of a bulk write. */
const findWitness = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
): Promise<string | undefined> => {
  for (const item of items.slice(0, WITNESS_CANDIDATES)) {
    if ((await isMember(ctx, listId, item.data.email)) === false) return item.data.email;
  }
  return undefined;
};

/**
 * The bulk-membership probe: finds a contact of this batch that is not on the list, sends the batch
 * as one bulk upsert carrying the list, then checks whether that contact is now on it. If it is, bulk
 * membership works and the batch is done; if not, the batch's accepted contacts are added one by
 * one, so nothing is lost either way. A batch with no fair witness (every candidate already on the
 * list) learns nothing and takes the one-by-one path. The answer is stored on the connection as
 * confirmed by this run.
 */
const probe = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
  into: ContactResult[],
): Promise<void> => {
  const { connections, connection, claimant, clock } = ctx;
  let settled = false;
  try {
    const witness = await findWitness(ctx, items, listId);
    if (witness === undefined) {
      ctx.logger.info('bulk membership not probed: no contact of the batch is off the list', {
        connectionId: connection.id,
      });
      await oneByOne(ctx, items, listId, into);
      return;
    }
    const results = await bulk(ctx, items, listId);
    const witnessResult = results.find((r) => r.email === witness);
    if (witnessResult?.ok !== true) {
      // The witness was refused: nothing learnt. The accepted contacts are added one by one.
      await completeOneByOne(ctx, items, results, listId, into);
      return;
    }
    const member = await isMember(ctx, listId, witness);
    if (member === undefined) {
      await completeOneByOne(ctx, items, results, listId, into);
      return;
    }
    const answer = member ? 'supported' : 'unsupported';
    await connections.settleProbe(
      connection.id,
      claimant,
      answer,
      new Date(clock.now()).toISOString(),
      ctx.runId,
    );
    settled = true;
    ctx.logger.info('bulk membership probed', { connectionId: connection.id, answer });
    if (member) into.push(...results);
    else await completeOneByOne(ctx, items, results, listId, into);
  } finally {
    if (!settled)
      await connections.settleProbe(connection.id, claimant, 'unknown', new Date(clock.now()).toISOString());
  }
};

/** After a bulk upsert that did not (provably) put anyone on the list: accepted contacts join one by one. */
const completeOneByOne = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  bulkResults: readonly ContactResult[],
  listId: string,
  into: ContactResult[],
): Promise<void> =>
  sendPipelined(
    items,
    async (item, i) => {
      const r = bulkResults[i];
      if (r !== undefined && !r.ok) return r;
      return ctx.call(() => ctx.session.upsertIntoList(item.data, listId));
    },
    into,
    ctx.inFlight ?? sequential,
    ctx.halt,
  );

/** Waits briefly for another sender's probe; returns what this run may rely on, or unknown if it takes too long. */
const awaitProbe = async (ctx: JoinContext): Promise<BulkMembership> => {
  const deadline = ctx.clock.now() + ctx.probeWaitMs;
  while (ctx.clock.now() < deadline) {
    await ctx.clock.sleep(POLL_MS);
    const latest = await ctx.connections.get(ctx.connection.id);
    if (latest === undefined) return 'unknown';
    const capability = capabilityForRun(latest.bulkMembership, ctx.runId, ctx.clock.now(), ctx.recheckMs);
    if (capability !== 'unknown') return capability;
    if (latest.bulkMembership.probe === undefined) break;
  }
  return 'unknown';
};

/**
 * Puts a batch of contacts on a list by the cheapest path this run has evidence for, pushing each
 * contact's result into `into` as it is known (so a delivery stopped half way keeps what was done).
 */
export const joinList = async (
  ctx: JoinContext,
  items: readonly JoinItem[],
  listId: string,
  into: ContactResult[],
): Promise<void> => {
  const now = ctx.clock.now();
  let capability = capabilityForRun(ctx.connection.bulkMembership, ctx.runId, now, ctx.recheckMs);
  if (capability === 'unknown') {
    const claimed = await ctx.connections.claimProbe(ctx.connection.id, ctx.claimant, {
      now: new Date(now).toISOString(),
      claimStaleBefore: new Date(now - PROBE_STALE_MS).toISOString(),
      answerStaleBefore: new Date(now - ctx.recheckMs).toISOString(),
      forRun: ctx.runId,
    });
    if (claimed) return probe(ctx, items, listId, into);
    capability = await awaitProbe(ctx);
  }
  if (capability === 'supported') into.push(...(await bulk(ctx, items, listId)));
  else await oneByOne(ctx, items, listId, into);
};
