import type { ContactCollector } from '#lib/domain/collector.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import type { DiffTotals, SnapshotEntry } from '#lib/domain/diff.ts';
import type { SendBatchMessageInput } from '#lib/domain/messages.ts';
import { isRemovalBatch, type PlannedBatch } from '#lib/domain/plan.ts';
import type { Context } from './context.ts';
import { batchPlanner, decisions } from './decide.ts';
import { type BatchAddress, messageOf, toMessages } from './emit.ts';
import { namedContacts } from './named-contacts.ts';

/**
 * Planning passes: the plan is decided again from the same collector and frozen snapshot whenever its
 * batches are needed (sized, then queued a chunk at a time), instead of being kept whole.
 */
export interface Pass {
  ctx: Context;
  collector: ContactCollector;
  snapshot: Map<string, SnapshotEntry>;
  capability: BulkMembership;
  separateLeaves: boolean;
  /**
   * Messages each batch became when the plan was sized (by its place in the pass): a batch sized
   * into one message is rebuilt without measuring it again. Same numbers, so the same messages.
   */
  splits: number[];
}

/** The batch's messages numbered from `batchNo`, measured (and the count noted) unless sized before. */
export const messagesOf = (
  pass: Pass,
  index: number,
  batch: PlannedBatch,
  address: BatchAddress,
  batchNo: number,
): SendBatchMessageInput[] => {
  if (pass.splits[index] === 1) return [messageOf(batch, address, batchNo)];
  const messages = toMessages(batch, address, batchNo);
  pass.splits[index] = messages.length;
  return messages;
};

/** One planning pass: each decision goes straight to the batch planner, each batch out as it is full. */
export function* plannedBatches(pass: Pass): Generator<PlannedBatch, { totals: DiffTotals; floor: number }> {
  const { ctx, collector, snapshot, capability, separateLeaves } = pass;
  const ready: PlannedBatch[] = [];
  const planner = batchPlanner(ctx, capability, (b) => ready.push(b), separateLeaves);
  const it = decisions(collector, snapshot, ctx.run.segmentIds.length, namedContacts(ctx.run));
  for (let step = it.next(); ; step = it.next()) {
    if (step.done) {
      planner.finish();
      yield* ready.splice(0);
      return { totals: step.value, floor: planner.floor };
    }
    planner.add(step.value);
    if (ready.length > 0) yield* ready.splice(0);
  }
}

/**
 * Messages of one pass in batch-number order from `from`. With `held` (the guardrail holds the plan),
 * removal batches are numbered after every other batch, from `held`: the pass skips them, and a
 * second pass yields only them.
 */
export function* passMessages(
  pass: Pass,
  address: BatchAddress,
  from: number,
  held: number | undefined,
): Generator<SendBatchMessageInput> {
  let batchNo = 0;
  let index = 0;
  if (held === undefined || from < held) {
    for (const batch of iterate(plannedBatches(pass))) {
      if (held !== undefined && isRemovalBatch(batch)) {
        index++;
        continue;
      }
      const messages = messagesOf(pass, index++, batch, address, batchNo);
      batchNo += messages.length;
      for (const m of messages) if (m.batchNo >= from) yield m;
    }
  }
  if (held === undefined) return;
  batchNo = held;
  index = 0;
  for (const batch of iterate(plannedBatches(pass))) {
    if (!isRemovalBatch(batch)) {
      index++;
      continue;
    }
    const messages = messagesOf(pass, index++, batch, address, batchNo);
    batchNo += messages.length;
    for (const m of messages) if (m.batchNo >= from) yield m;
  }
}

/** A generator's values without its return value. */
export function* iterate<T>(it: Generator<T, unknown>): Generator<T> {
  for (let step = it.next(); !step.done; step = it.next()) yield step.value;
}
