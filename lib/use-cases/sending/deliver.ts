import type { Connection } from '#lib/domain/connection.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import { SlotTooLateError } from '#lib/ports/rate-budget.ts';
import {
  accessConnection,
  type ConnectionAccess,
  type RequestTally,
  ThrottledTooLongError,
} from '../destination-calls.ts';
import type { SendBatchDeps } from './context.ts';
import { joinList } from './list-join.ts';
import { sendPipelined } from './pipelined.ts';
import { progressTicker, type Recorded } from './progress-ticker.ts';
import { rejectedAll } from './rejections.ts';
import { retrySingly } from './single-retries.ts';
import { StopDelivery, watchRun } from './watch.ts';

/** Why a delivery ended before the batch's last item. */
export type Stop =
  | { kind: 'cancelled' | 'connection_removed' | 'out_of_time' }
  | { kind: 'fatal'; error: FatalRunError }
  | { kind: 'transient'; error: TransientError };

/** The results of items `from`, `from + 1`, … in order, and why it stopped short (if it did). */
export interface Delivery {
  results: ContactResult[];
  stop?: Stop;
  /** The part of `results` (and of the tally) already recorded while sending; the rest is settle's. */
  recorded?: Recorded;
}

/**
 * Sends the batch's items from `from` on, keeping each result as it comes, so that whatever stops the
 * delivery (a cancel, a removed connection, a request still failing after its retries, the
 * invocation running out of time) the work already done is kept and recorded. A refused key is
 * re-read once (it may have just been rotated) before the run is failed.
 */
export const deliver = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  from: number,
  run: RunRecord,
  connection: Connection,
  tally: RequestTally,
  remainingMs: () => number,
): Promise<Delivery> => {
  const results: ContactResult[] = [];
  const watch = watchRun(deps, { runId: run.id, connectionId: connection.id });
  // A bulk upsert's results are replaced in place by its single retries: recorded at the end only.
  const ticker =
    batch.op === 'upsert'
      ? undefined
      : progressTicker(deps, { batch, run, from }, results, tally, deps.settings.progressEvery);
  const beforeEach = async (): Promise<void> => {
    await watch();
    ticker?.tick();
  };
  const delivery = await attempt(deps, batch, from, run, connection, tally, remainingMs, results, beforeEach);
  const recorded = await ticker?.settled();
  return recorded === undefined || recorded.count === 0 ? delivery : { ...delivery, recorded };
};

const attempt = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  from: number,
  run: RunRecord,
  connection: Connection,
  tally: RequestTally,
  remainingMs: () => number,
  results: ContactResult[],
  watch: () => Promise<void>,
): Promise<Delivery> => {
  let keyReread = false;
  for (;;) {
    try {
      const answered = results.length;
      // One request per item left, but for a bulk upsert (one request for all of them).
      const expectedRequests = batch.op === 'upsert' ? 1 : batch.items.length - from - answered;
      const access = await accessConnection(
        deps,
        connection,
        tally,
        { remainingMs, reserveMs: deps.settings.reserveMs, expectedRequests },
        watch,
      );
      // After a refused key, one request until the re-read key is answered: a key still refused
      // costs one more 401, not one per request in flight.
      const inFlight = keyReread
        ? () => (results.length > answered ? access.inFlight() : 1)
        : access.inFlight;
      await execute(deps, batch, from + answered, run, connection, { ...access, inFlight }, results);
      return { results };
    } catch (error) {
      if (error instanceof StopDelivery) return { results, stop: { kind: error.why } };
      if (error instanceof SlotTooLateError || error instanceof ThrottledTooLongError) {
        return { results, stop: { kind: 'out_of_time' } };
      }
      if (error instanceof FatalRunError) {
        if (error.reason === 'invalid_api_key' && !keyReread && deps.secrets.evict !== undefined) {
          keyReread = true;
          deps.secrets.evict(connection.id);
          continue;
        }
        return { results, stop: { kind: 'fatal', error } };
      }
      if (error instanceof TransientError) return { results, stop: { kind: 'transient', error } };
      throw error;
    }
  }
};

const execute = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  start: number,
  run: RunRecord,
  connection: Connection,
  { session, call, inFlight, halt }: ConnectionAccess,
  into: ContactResult[],
): Promise<void> => {
  switch (batch.op) {
    case 'upsert': {
      const items = batch.items.slice(start);
      if (items.length === 0) return;
      let results: ContactResult[];
      try {
        results = await call(() => session.upsertMany(items.map((i) => i.data)));
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        results = rejectedAll(
          items.map((i) => i.data.email),
          error,
        );
      }
      const offset = into.length;
      into.push(...results);
      await retrySingly(deps, items, into, offset, call, session);
      return;
    }
    case 'list-join':
      return joinList(
        {
          connections: deps.connections,
          session,
          connection,
          runId: run.id,
          claimant: `${run.id}#${batch.batchNo}`,
          clock: deps.clock,
          logger: deps.logger,
          call,
          recheckMs: deps.settings.probeRecheckMs,
          probeWaitMs: deps.settings.probeWaitMs,
          inFlight,
          halt,
        },
        batch.items.slice(start),
        batch.listId,
        into,
      );
    case 'list-leave':
      return sendPipelined(
        batch.items.slice(start),
        (item) => call(() => session.removeFromList(batch.listId, item.email)),
        into,
        inFlight,
        halt,
      );
  }
};
