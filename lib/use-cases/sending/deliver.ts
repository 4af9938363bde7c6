import { FatalRunError } from '#lib/domain/errors.ts';
import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import type { Connection, RunRecord } from '#lib/ports/state-store.ts';
import { accessConnection, type ConnectionAccess, type RequestTally } from '../destination-calls.ts';
import type { SendBatchDeps } from '../send-batch.ts';
import { joinList } from './list-join.ts';

/** Delivers the batch, re-reading the key once if the destination refuses a cached one. */
export const deliver = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  connection: Connection,
  tally: RequestTally,
  remainingMs: () => number,
): Promise<ContactResult[]> => {
  const attempt = async (): Promise<ContactResult[]> => {
    const access = await accessConnection(deps, connection, tally, {
      remainingMs,
      reserveMs: deps.settings.reserveMs,
    });
    const results = await execute(deps, batch, run, connection, access);
    return withSingleRetries(deps, batch, results, access);
  };
  try {
    return await attempt();
  } catch (error) {
    if (
      !(error instanceof FatalRunError) ||
      error.reason !== 'invalid_api_key' ||
      deps.secrets.evict === undefined
    ) {
      throw error;
    }
    deps.secrets.evict(connection.id);
    return attempt();
  }
};

const execute = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  run: RunRecord,
  connection: Connection,
  { session, call }: ConnectionAccess,
): Promise<ContactResult[]> => {
  switch (batch.op) {
    case 'upsert':
      return call(() => session.upsertMany(batch.items.map((i) => i.data)));
    case 'list-join':
      return joinList(
        {
          store: deps.store,
          session,
          connection,
          claimant: `${run.id}#${batch.batchNo}`,
          clock: deps.clock,
          logger: deps.logger,
          call,
          recheckMs: deps.settings.probeRecheckMs,
          probeWaitMs: deps.settings.probeWaitMs,
        },
        batch.items,
        batch.listId,
      );
    case 'list-leave': {
      const results: ContactResult[] = [];
      for (const item of batch.items)
        results.push(await call(() => session.removeFromList(batch.listId, item.email)));
      return results;
    }
  }
};

/**
 * A bulk upsert reports rejected contacts without a reason (autopilot-api.md §5.2); retrying a few
 * of them one by one either gets them in or tells us why. Many rejections suggest a systemic cause:
 * those are recorded as they are rather than multiplied into single requests.
 */
const withSingleRetries = async (
  deps: SendBatchDeps,
  batch: SendBatchMessage,
  results: ContactResult[],
  { session, call }: ConnectionAccess,
): Promise<ContactResult[]> => {
  if (batch.op !== 'upsert') return results;
  const rejected = results.flatMap((r, i) => (r.ok ? [] : [i]));
  if (rejected.length === 0 || rejected.length > deps.settings.singleRetryLimit) return results;
  const merged = [...results];
  for (const i of rejected) {
    const item = batch.items[i];
    if (item === undefined) continue;
    const [single] = await call(() => session.upsertMany([item.data]));
    if (single !== undefined) merged[i] = single;
  }
  return merged;
};
