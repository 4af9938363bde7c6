import {
  BatchOutsidePlanError,
  type BatchRange,
  type BatchState,
  type ErrorSample,
  type RecordResult,
} from '#lib/domain/batch.ts';
import type { BatchSettlement } from '#lib/domain/snapshot.ts';
import type { BatchLedger, RecordedOutcome } from '#lib/ports/batch-ledger.ts';
import type { Tables } from './tables.ts';

/** Most error samples kept per recorded range (the DynamoDB ledger keeps the same). */
const SAMPLES_PER_RANGE = 5;

/** Counter maps never hold '' keys or zero increments (the DynamoDB ledger skips them too). */
const addCounts = (target: Record<string, number>, add: Record<string, number>): void => {
  for (const [rawKey, n] of Object.entries(add)) {
    if (!n) continue;
    const key = rawKey === '' ? '(none)' : rawKey;
    target[key] = (target[key] ?? 0) + n;
  }
};

const leaseKey = (runId: string, batchNo: number): string => `${runId}#${batchNo}`;

/** `BatchLedger` in memory: batch progress in ranges, counters on the shared run records. */
export class InMemoryBatchLedger implements BatchLedger {
  /** Per run, the failed contacts recorded on its batches (DynamoDB keeps them on each batch item). */
  private readonly failed = new Map<string, Set<string>>();
  /** Per batch (`runId#batchNo`): leased at least once, refused positions, where results end. */
  private readonly settling = new Map<string, { tried: boolean; failed: Set<number>; resultsTo?: number }>();

  constructor(private readonly t: Tables) {}

  async record(
    runId: string,
    batchNo: number,
    range: BatchRange,
    outcome: RecordedOutcome,
  ): Promise<RecordResult> {
    const r = this.t.mustRun(runId);
    if (r.batchesTotal === undefined || batchNo >= r.batchesTotal)
      throw new BatchOutsidePlanError(runId, batchNo);
    const states = this.t.batches.get(runId) ?? new Map<number, BatchState>();
    this.t.batches.set(runId, states);
    const current = states.get(batchNo);
    const stands = current === undefined ? 0 : current.next;
    if (current?.done || stands !== range.from) {
      return { recorded: false, state: current ?? { next: 0, done: false } };
    }
    const state = { next: range.to, done: range.final };
    states.set(batchNo, state);
    const settling = this.settlingOf(runId, batchNo);
    for (const i of outcome.failedItems ?? []) settling.failed.add(i);
    if (range.final && outcome.resultsTo !== undefined) settling.resultsTo = outcome.resultsTo;
    r.lastProgressAt = outcome.at;
    const p = r.progress;
    if (range.final) p.batchesDone += 1;
    p.accepted += outcome.accepted;
    p.failed += Object.values(outcome.failed).reduce((a, b) => a + b, 0);
    p.dropped += outcome.dropped;
    p.throttled += outcome.throttled;
    addCounts(p.failedByReason, outcome.failed);
    addCounts(p.requests, outcome.requests);
    const samples = this.t.samples.get(runId) ?? [];
    outcome.samples.slice(0, SAMPLES_PER_RANGE).forEach((s, n) => {
      samples.push({
        email: s.email,
        reason: s.reason,
        batchNo: s.batchNo ?? batchNo,
        sortKey: `${String(batchNo).padStart(8, '0')}#${String(range.from).padStart(4, '0')}#${n}`,
      });
    });
    samples.sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1));
    this.t.samples.set(runId, samples);
    if (outcome.failedEmails?.length) {
      const failed = this.failed.get(runId) ?? new Set<string>();
      for (const email of outcome.failedEmails) failed.add(email);
      this.failed.set(runId, failed);
    }
    return { recorded: true, state: { ...state } };
  }

  async get(runId: string, batchNo: number): Promise<BatchState | undefined> {
    const state = this.t.batches.get(runId)?.get(batchNo);
    const lease = this.t.batchLeases.get(leaseKey(runId, batchNo));
    if (state === undefined && lease === undefined) return undefined;
    return { ...(state ?? { next: 0, done: false }), ...(lease ? { leaseUntil: lease.until } : {}) };
  }

  async lease(runId: string, batchNo: number, holder: string, now: string, until: string): Promise<boolean> {
    if (this.t.batches.get(runId)?.get(batchNo)?.done) return false;
    const lease = this.t.batchLeases.get(leaseKey(runId, batchNo));
    if (lease !== undefined && lease.holder !== holder && !(lease.until < now)) return false;
    this.t.batchLeases.set(leaseKey(runId, batchNo), { holder, until });
    this.settlingOf(runId, batchNo).tried = true;
    return true;
  }

  async settlements(runId: string): Promise<Map<number, BatchSettlement>> {
    const out = new Map<number, BatchSettlement>();
    const states = this.t.batches.get(runId);
    for (const [key, s] of this.settling) {
      if (!key.startsWith(`${runId}#`)) continue;
      const batchNo = Number(key.slice(runId.length + 1));
      const state = states?.get(batchNo) ?? { next: 0, done: false };
      out.set(batchNo, {
        next: state.next,
        done: state.done,
        ...(s.resultsTo === undefined ? {} : { resultsTo: s.resultsTo }),
        failed: new Set(s.failed),
        tried: s.tried,
      });
    }
    return out;
  }

  private settlingOf(
    runId: string,
    batchNo: number,
  ): { tried: boolean; failed: Set<number>; resultsTo?: number } {
    const key = leaseKey(runId, batchNo);
    let found = this.settling.get(key);
    if (found === undefined) {
      found = { tried: false, failed: new Set() };
      this.settling.set(key, found);
    }
    return found;
  }

  async release(runId: string, batchNo: number, holder: string): Promise<void> {
    if (this.t.batchLeases.get(leaseKey(runId, batchNo))?.holder === holder) {
      this.t.batchLeases.delete(leaseKey(runId, batchNo));
    }
  }

  async addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void> {
    const r = this.t.mustRun(runId);
    addCounts(r.progress.requests, requests);
    r.progress.throttled += throttled;
  }

  async errorSamples(runId: string, limit: number): Promise<ErrorSample[]> {
    return (this.t.samples.get(runId) ?? []).slice(0, limit).map(({ sortKey: _k, ...s }) => ({ ...s }));
  }

  async failedEmails(runId: string, limit: number): Promise<string[]> {
    return [...(this.failed.get(runId) ?? [])].sort().slice(0, limit);
  }
}
