import type {
  BatchSettlement,
  SnapshotChange,
  StagedBatch,
  StoredSnapshotEntry,
} from '#lib/domain/snapshot.ts';
import {
  SnapshotChangedError,
  type SnapshotRecord,
  type SnapshotStats,
  type Snapshots,
} from '#lib/ports/snapshots.ts';
import type { Tables } from './tables.ts';

type Log =
  | { kind: 'changes'; changes: SnapshotChange[] }
  | {
      kind: 'staged';
      runId: string;
      /** Parts by first batch number, read in that order (the DynamoDB parts' sort keys). */
      parts: Map<number, StagedBatch[]>;
      settlements?: Map<number, BatchSettlement>;
    }
  | { kind: 'drop'; segmentId: string };

export interface StoredSnapshot {
  version: number;
  base: StoredSnapshotEntry[];
  logs: Log[];
}

const copy = <T>(value: T): T => structuredClone(value);
/** What the DynamoDB adapter would store for a log, roughly: its JSON (for the compaction heuristics). */
const sizeOf = (value: unknown): number =>
  JSON.stringify(value, (_k, v) => (v instanceof Map ? [...v] : v)).length;

/** `Snapshots` in memory: the same base and logs as in DynamoDB, kept as objects, copied in and out. */
export class InMemorySnapshots implements Snapshots {
  constructor(private readonly t: Tables) {}

  async *scan(exportId: string): AsyncIterable<SnapshotRecord> {
    const stored = this.t.snapshots.get(exportId);
    if (stored === undefined) return;
    const { base, logs } = copy({ base: stored.base, logs: stored.logs });
    for (const entry of base) yield { kind: 'entry', entry };
    for (const log of logs) {
      if (log.kind === 'changes') yield { kind: 'changes', changes: log.changes };
      else if (log.kind === 'drop') yield { kind: 'drop', segmentId: log.segmentId };
      else
        for (const first of [...log.parts.keys()].sort((a, b) => a - b))
          yield {
            kind: 'staged',
            runId: log.runId,
            batches: log.parts.get(first) ?? [],
            ...(log.settlements ? { settlements: log.settlements } : {}),
          };
    }
  }

  async stats(exportId: string): Promise<SnapshotStats> {
    const stored = this.t.snapshots.get(exportId);
    return {
      version: stored?.version ?? 0,
      baseEntries: stored?.base.length ?? 0,
      baseBytes: sizeOf(stored?.base ?? []),
      logBytes: (stored?.logs ?? []).reduce((n, l) => n + sizeOf(l), 0),
      largestLogBytes: Math.max(0, ...(stored?.logs ?? []).map(sizeOf)),
      logs: stored?.logs.length ?? 0,
      stagedRuns: (stored?.logs ?? []).flatMap((l) =>
        l.kind === 'staged' && !l.settlements ? [l.runId] : [],
      ),
    };
  }

  async apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    if (changes.length === 0) return;
    this.write(exportId, (s) => s.logs.push({ kind: 'changes', changes: copy([...changes]) }));
  }

  async stage(exportId: string, runId: string, batches: readonly StagedBatch[]): Promise<void> {
    const first = batches[0];
    if (first === undefined) return;
    this.write(exportId, (s) => {
      let log = s.logs.find((l) => l.kind === 'staged' && l.runId === runId);
      if (log === undefined) {
        log = { kind: 'staged', runId, parts: new Map() };
        s.logs.push(log);
      }
      if (log.kind === 'staged') log.parts.set(first.batchNo, copy([...batches]));
    });
  }

  async settle(
    exportId: string,
    runId: string,
    settlements: ReadonlyMap<number, BatchSettlement>,
  ): Promise<void> {
    this.write(exportId, (s) => {
      const log = s.logs.find((l) => l.kind === 'staged' && l.runId === runId && !l.settlements);
      if (log?.kind === 'staged') log.settlements = copy(new Map(settlements));
    });
  }

  async rebase(exportId: string, version: number, entries: Iterable<StoredSnapshotEntry>): Promise<void> {
    const stored = this.t.snapshots.get(exportId);
    if ((stored?.version ?? 0) !== version) throw new SnapshotChangedError(`Snapshot of ${exportId} changed`);
    this.write(exportId, (s) => {
      s.base = copy([...entries]);
      s.logs = [];
    });
  }

  async delete(exportId: string): Promise<void> {
    this.t.snapshots.delete(exportId);
    this.t.snapshotListIds.delete(exportId);
  }

  async lists(exportId: string): Promise<Record<string, string>> {
    return { ...this.t.snapshotListIds.get(exportId) };
  }

  async setList(exportId: string, segmentId: string, listId: string): Promise<void> {
    const lists = this.t.snapshotListIds.get(exportId) ?? {};
    const previous = lists[segmentId];
    if (previous === listId) return;
    if (previous !== undefined) this.write(exportId, (s) => s.logs.push({ kind: 'drop', segmentId }));
    this.t.snapshotListIds.set(exportId, { ...lists, [segmentId]: listId });
  }

  private write(exportId: string, change: (s: StoredSnapshot) => void): void {
    const stored = this.t.snapshots.get(exportId) ?? { version: 0, base: [], logs: [] };
    change(stored);
    stored.version++;
    this.t.snapshots.set(exportId, stored);
  }
}
