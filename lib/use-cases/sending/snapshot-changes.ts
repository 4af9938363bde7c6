import { bitsOf } from '#lib/domain/diff.ts';
import type { SendBatchMessage } from '#lib/domain/messages.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { SnapshotChange } from '#lib/domain/snapshot.ts';
import type { ContactResult } from '#lib/ports/destination.ts';

const keyOf = (email: string): string => email.toLowerCase();
/** The address as sent, kept only when its case differs from the key. */
const sentAs = (email: string): { email?: string } => (email === keyOf(email) ? {} : { email });

/** The snapshot changes of the contacts the destination accepted (and only those). */
export const snapshotChanges = (
  batch: SendBatchMessage,
  run: RunRecord,
  results: readonly ContactResult[],
): SnapshotChange[] => {
  const accepted = <T>(items: readonly T[]): T[] => items.filter((_, i) => results[i]?.ok === true);
  const segmentIds = (mask: number): string[] =>
    bitsOf(mask, run.segmentIds.length).map((i) => run.segmentIds[i] ?? '');
  switch (batch.op) {
    case 'upsert':
      return accepted(batch.items).map((it) => ({
        key: keyOf(it.data.email),
        hash: it.hash,
        ...sentAs(it.data.email),
        join: segmentIds(it.join),
        leave: segmentIds(it.leave),
        forget: it.forget,
      }));
    case 'list-join': {
      const segment = run.segmentIds[batch.segment] ?? '';
      return accepted(batch.items).map((it) => ({
        key: keyOf(it.data.email),
        hash: it.hash,
        ...sentAs(it.data.email),
        join: [segment],
        leave: [],
        forget: false,
      }));
    }
    case 'list-leave': {
      const segment = run.segmentIds[batch.segment] ?? '';
      return accepted(batch.items).map((it) => ({
        key: keyOf(it.email),
        hash: null,
        join: [],
        leave: [segment],
        forget: it.forget,
      }));
    }
  }
};

/**
 * The uncertainty a delivery creates before its first request: every membership it is about to
 * change becomes "maybe" in the snapshot, so a write that takes effect and is never confirmed (the
 * answer lost, the process killed, the run ended before the batch was retried) is asserted again by
 * the next run instead of being forgotten. Accepted items then make it certain.
 */
export const intentChanges = (batch: SendBatchMessage, run: RunRecord, from: number): SnapshotChange[] => {
  const segmentIds = (mask: number): string[] =>
    bitsOf(mask, run.segmentIds.length).map((i) => run.segmentIds[i] ?? '');
  const maybeOnly = (key: string, maybe: string[]): SnapshotChange => ({
    key,
    hash: null,
    join: [],
    leave: [],
    maybe,
    forget: false,
  });
  switch (batch.op) {
    case 'upsert':
      return batch.items
        .slice(from)
        .filter((it) => it.join !== 0 || it.leave !== 0)
        .map((it) => maybeOnly(keyOf(it.data.email), segmentIds(it.join | it.leave)));
    case 'list-join':
    case 'list-leave': {
      const segment = run.segmentIds[batch.segment] ?? '';
      return batch.items
        .slice(from)
        .map((it) => maybeOnly(keyOf('data' in it ? it.data.email : it.email), [segment]));
    }
  }
};
