/** Builders the state contracts share. */
import { randomUUID } from 'node:crypto';
import type { SnapshotChange, StoredSnapshotEntry } from '#lib/domain/snapshot.ts';
import { systemClock } from '#lib/ports/clock.ts';
import type { State } from '#lib/ports/state.ts';
import { snapshotEntries } from '#lib/use-cases/snapshot-view.ts';

export const STAMP = { by: 'editor@example.com', at: '2025-02-01T00:00:00.000Z' };

export const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A whole batch recorded in one go. */
export const whole = { from: 0, to: 100, final: true } as const;

export const change = (key: string, patch: Partial<SnapshotChange> = {}): SnapshotChange => ({
  key,
  hash: null,
  join: [],
  leave: [],
  forget: false,
  ...patch,
});

/** The snapshot as the next run would see it (staged plans settled by the ledger), sorted by key. */
export const readAll = async (state: State, exportId: string): Promise<StoredSnapshotEntry[]> => {
  const entries: StoredSnapshotEntry[] = [];
  for (const e of await snapshotEntries({ ...state, clock: systemClock }, exportId)) {
    entries.push({
      ...e,
      segmentIds: [...e.segmentIds].sort(),
      ...(e.maybeSegmentIds ? { maybeSegmentIds: [...e.maybeSegmentIds].sort() } : {}),
    });
  }
  return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
};

/** A JSON document of roughly `bytes` characters that does not compress to nothing. */
export const bulkyJson = (bytes: number): string => {
  const rows: { email: string; h: string; n: number }[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = { email: `${randomUUID()}@example.com`, h: randomUUID().replaceAll('-', ''), n: i };
    size += JSON.stringify(row).length + 1;
    rows.push(row);
  }
  return JSON.stringify({ v: 1, rows });
};
