import { isTerminal } from '#lib/domain/run.ts';
import type { BatchSettlement, StoredSnapshotEntry } from '#lib/domain/snapshot.ts';
import { settledChanges } from '#lib/domain/snapshot.ts';
import { SnapshotFold } from '#lib/domain/snapshot-fold.ts';
import type { BatchLedger } from '#lib/ports/batch-ledger.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { SnapshotStats, Snapshots } from '#lib/ports/snapshots.ts';

export interface SnapshotViewDeps {
  snapshots: Snapshots;
  batches: Pick<BatchLedger, 'settlements'>;
  runs: Pick<Runs, 'get'>;
  clock: Clock;
}

/**
 * How long after a run ended a delivery that read it while it was still running may yet record:
 * the sender's longest invocation (15 minutes) with a margin.
 */
export const SETTLE_AFTER_MS = 20 * 60_000;
/** The batch ledger expires after 30 days; past this age a run's ledger is taken as gone. */
const LEDGER_KEPT_MS = 29 * 24 * 60 * 60_000;
/** Logs kept before they are folded into a new base, whatever their size. */
export const MAX_LOGS = 48;

interface StagedRun {
  settlements: Map<number, BatchSettlement>;
  /** The ledger has expired: an item without a record may have been sent. */
  unknown: boolean;
  /** No delivery can record anything more: the settlements may be frozen. */
  settleable: boolean;
  seen: Set<number>;
}

const stagedRun = async (deps: SnapshotViewDeps, runId: string): Promise<StagedRun> => {
  const now = deps.clock.now();
  const run = await deps.runs.get(runId);
  const settlements = await deps.batches.settlements(runId);
  const unknown =
    run === undefined ? settlements.size === 0 : now - Date.parse(run.createdAt) > LEDGER_KEPT_MS;
  const allDone =
    run?.batchesTotal !== undefined &&
    settlements.size === run.batchesTotal &&
    [...settlements.values()].every((s) => s.done);
  const ended =
    run === undefined ||
    (isTerminal(run.status) &&
      (allDone || now - Date.parse(run.finishedAt ?? run.createdAt) > SETTLE_AFTER_MS));
  return { settlements, unknown, settleable: ended, seen: new Set() };
};

/**
 * The export's snapshot as the next run must see it: the base, then every log in order, each run's
 * staged plan settled by what its batch ledger recorded (accepted → applied; possibly sent → uncertain;
 * never tried → nothing). With `maintain`, runs no delivery can change any more get their ledger's
 * answers frozen beside their plan, and when the logs outweigh the base (or are many) they are
 * folded into a new base: writes stay in proportion to the changes, reads one pass.
 */
export const loadSnapshot = async (
  deps: SnapshotViewDeps,
  exportId: string,
  options: { maintain: boolean },
): Promise<SnapshotFold> => {
  const stats = await deps.snapshots.stats(exportId);
  const fold = new SnapshotFold();
  const runs = new Map<string, StagedRun>();
  for await (const record of deps.snapshots.scan(exportId)) {
    switch (record.kind) {
      case 'entry':
        fold.put(record.entry);
        break;
      case 'changes':
        fold.apply(record.changes);
        break;
      case 'drop':
        fold.dropSegment(record.segmentId);
        break;
      case 'staged': {
        let run = runs.get(record.runId);
        if (run === undefined) {
          run =
            record.settlements === undefined
              ? await stagedRun(deps, record.runId)
              : {
                  settlements: new Map(record.settlements),
                  unknown: false,
                  settleable: false,
                  seen: new Set(),
                };
          runs.set(record.runId, run);
        }
        for (const batch of record.batches) {
          // A resumed planner may have staged a batch twice: it changed things once.
          if (run.seen.has(batch.batchNo)) continue;
          run.seen.add(batch.batchNo);
          fold.apply(settledChanges(batch, run.settlements.get(batch.batchNo), run.unknown));
        }
      }
    }
  }
  if (options.maintain) await maintain(deps, exportId, stats, fold, runs);
  return fold;
};

const maintain = async (
  deps: SnapshotViewDeps,
  exportId: string,
  stats: SnapshotStats,
  fold: SnapshotFold,
  runs: Map<string, StagedRun>,
): Promise<void> => {
  let pending = 0;
  for (const runId of stats.stagedRuns) {
    const run = runs.get(runId);
    if (run === undefined || !run.settleable) {
      pending++;
      continue;
    }
    const frozen = new Map(run.settlements);
    // With the ledger gone, every staged batch it no longer knows may have been sent.
    if (run.unknown)
      for (const batchNo of run.seen)
        if (!frozen.has(batchNo))
          frozen.set(batchNo, { next: 0, done: false, failed: new Set(), tried: true });
    await deps.snapshots.settle(exportId, runId, frozen);
  }
  if (pending > 0 || stats.logs === 0) return;
  // What a base of today's entries would weigh: from the base's own bytes per entry, or, before there
  // is a base, the largest log (a first export's plan is the whole snapshot).
  const baseBytes =
    stats.baseEntries > 0 ? (stats.baseBytes / stats.baseEntries) * fold.size : stats.largestLogBytes;
  if (stats.logs >= MAX_LOGS || stats.logBytes > 2 * baseBytes) {
    const settled = await deps.snapshots.stats(exportId);
    await deps.snapshots.rebase(exportId, settled.version, fold.read());
  }
};

/** The export's snapshot entries, sorted by key (for views and tests; writes nothing). */
export const snapshotEntries = async (
  deps: SnapshotViewDeps,
  exportId: string,
): Promise<StoredSnapshotEntry[]> => [...(await loadSnapshot(deps, exportId, { maintain: false })).read()];
