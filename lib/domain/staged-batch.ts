import { bitsOf } from './diff.ts';
import type { SendBatchMessageInput } from './messages.ts';
import type { SnapshotChange, StagedBatch } from './snapshot.ts';

const keyOf = (email: string): string => email.toLowerCase();
/** The address as sent, kept only when its case differs from the key. */
const sentAs = (email: string): { email?: string } => (email === keyOf(email) ? {} : { email });

/**
 * What a queued batch changes in the snapshot once the destination accepts each of its items, item by
 * item in batch order: the contact's new hash (null for a pure removal), the segments joined and left.
 */
export const stagedBatch = (message: SendBatchMessageInput, segmentIds: readonly string[]): StagedBatch => {
  const ids = (mask: number): string[] => bitsOf(mask, segmentIds.length).map((i) => segmentIds[i] ?? '');
  let changes: SnapshotChange[];
  switch (message.op) {
    case 'upsert':
      changes = message.items.map((it) => ({
        key: keyOf(it.data.email),
        hash: it.hash,
        ...sentAs(it.data.email),
        join: ids(it.join),
        leave: ids(it.leave),
        forget: it.forget,
      }));
      break;
    case 'list-join': {
      const segment = segmentIds[message.segment] ?? '';
      changes = message.items.map((it) => ({
        key: keyOf(it.data.email),
        hash: it.hash,
        ...sentAs(it.data.email),
        join: [segment],
        leave: [],
        forget: false,
      }));
      break;
    }
    case 'list-leave': {
      const segment = segmentIds[message.segment] ?? '';
      changes = message.items.map((it) => ({
        key: keyOf(it.email),
        hash: null,
        join: [],
        leave: [segment],
        forget: it.forget,
      }));
      break;
    }
  }
  return { batchNo: message.batchNo, changes };
};
