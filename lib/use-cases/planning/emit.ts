import { MAX_MESSAGE_BYTES, MESSAGE_VERSION, type SendBatchMessageInput } from '#lib/domain/messages.ts';
import type { PlannedBatch } from '#lib/domain/plan.ts';

export interface BatchAddress {
  runId: string;
  exportId: string;
  connectionId: string;
  /** List mode: the destination list of each segment index. */
  listIds?: readonly string[];
  /**
   * Send lanes per kind of batch (absent: 1): a kind whose batch is one request goes round this
   * many lanes; one whose batch is many requests pipelines them in one delivery and needs one.
   */
  lanes?: Partial<Record<PlannedBatch['op'], number>>;
}

/** The batch as one queue message (whether it fits is `toMessages`'s concern). */
export const messageOf = (
  batch: PlannedBatch,
  address: BatchAddress,
  batchNo: number,
): SendBatchMessageInput => {
  const base = {
    v: MESSAGE_VERSION,
    type: 'send-batch' as const,
    runId: address.runId,
    exportId: address.exportId,
    connectionId: address.connectionId,
    batchNo,
    requeues: 0,
    lane: batchNo % Math.max(1, address.lanes?.[batch.op] ?? 1),
  };
  if (batch.op === 'upsert') return { ...base, op: 'upsert', items: batch.items };
  const listId = address.listIds?.[batch.segment];
  if (listId === undefined)
    throw new Error(`No destination list resolved for segment index ${batch.segment}`);
  return batch.op === 'list-join'
    ? { ...base, op: 'list-join', segment: batch.segment, listId, items: batch.items }
    : { ...base, op: 'list-leave', segment: batch.segment, listId, items: batch.items };
};

const halves = (batch: PlannedBatch): PlannedBatch[] => {
  const mid = Math.ceil(batch.items.length / 2);
  switch (batch.op) {
    case 'upsert':
      return [
        { op: 'upsert', items: batch.items.slice(0, mid) },
        { op: 'upsert', items: batch.items.slice(mid) },
      ];
    case 'list-join':
      return [
        { ...batch, items: batch.items.slice(0, mid) },
        { ...batch, items: batch.items.slice(mid) },
      ];
    case 'list-leave':
      return [
        { ...batch, items: batch.items.slice(0, mid) },
        { ...batch, items: batch.items.slice(mid) },
      ];
  }
};

/**
 * Turns one planned batch into queue messages numbered from `firstBatchNo`, halving it until each
 * message fits the queue's size limit (contacts with very large custom fields). Deterministic, so a
 * resumed planner numbers batches exactly as before.
 */
export const toMessages = (
  batch: PlannedBatch,
  address: BatchAddress,
  firstBatchNo: number,
): SendBatchMessageInput[] => {
  const message = messageOf(batch, address, firstBatchNo);
  if (Buffer.byteLength(JSON.stringify(message)) <= MAX_MESSAGE_BYTES) return [message];
  if (batch.items.length === 1) {
    throw new Error(
      `One contact alone exceeds the ${MAX_MESSAGE_BYTES}-byte message limit (batch ${firstBatchNo}).`,
    );
  }
  const out: SendBatchMessageInput[] = [];
  for (const half of halves(batch)) out.push(...toMessages(half, address, firstBatchNo + out.length));
  return out;
};
