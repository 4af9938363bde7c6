import { ValidationError } from '#lib/domain/errors.ts';
import type { MembershipTarget } from '#lib/domain/membership-targets.ts';
import type { BulkMembership } from '#lib/domain/plan.ts';
import {
  type BatchOutcome,
  BatchOutsidePlanError,
  type BatchRange,
  type BatchState,
  type Connection,
  ConnectionSchema,
  type ErrorSample,
  type ExportRecord,
  ExportRecordSchema,
  type ListMapping,
  type RecordResult,
  type RunRecord,
  RunRecordSchema,
  type RunSlot,
  type SnapshotChange,
  type StateStore,
  type StoredSnapshotEntry,
} from '#lib/ports/state-store.ts';

/** Most error samples kept per batch (the DynamoDB store keeps the same). */
const SAMPLES_PER_BATCH = 5;

type Condition = { expectVersion?: number; expectNew?: boolean };

const clone = <T>(value: T): T => structuredClone(value);

const conditionHolds = (existing: { version: number } | undefined, condition: Condition): boolean => {
  if (condition.expectNew && existing) return false;
  if (condition.expectVersion !== undefined && existing?.version !== condition.expectVersion) return false;
  return true;
};

/** Counter maps never hold '' keys or zero increments (the DynamoDB store skips them too). */
const addCounts = (target: Record<string, number>, add: Record<string, number>): void => {
  for (const [rawKey, n] of Object.entries(add)) {
    if (!n) continue;
    const key = rawKey === '' ? '(none)' : rawKey;
    target[key] = (target[key] ?? 0) + n;
  }
};

const runSortKey = (run: RunRecord): string => `${run.createdAt}#${run.id}`;

/** Fields the system owns: a user's revision never overwrites them. */
const CONNECTION_SYSTEM_FIELDS = ['status', 'bulkMembership'] as const;
const EXPORT_SYSTEM_FIELDS = ['activeRunId', 'activeDryRunId', 'lastRun'] as const;

const keepSystemFields = <T extends object>(
  next: T,
  existing: T | undefined,
  fields: readonly string[],
): T => {
  if (existing === undefined) return next;
  const merged: Record<string, unknown> = { ...(next as Record<string, unknown>) };
  for (const f of fields) {
    const value = (existing as Record<string, unknown>)[f];
    if (value === undefined) delete merged[f];
    else merged[f] = value;
  }
  return merged as T;
};

const lockField = (slot: RunSlot): 'activeRunId' | 'activeDryRunId' =>
  slot === 'run' ? 'activeRunId' : 'activeDryRunId';

/**
 * A faithful in-memory `StateStore` for unit tests: the same conditions, exactly-once batches,
 * claims and snapshot semantics as `DynamoDbStateStore` (both pass test/support/state-store-contract.ts).
 * Records are copied in and out and validated with the port's schemas on the way out, like items
 * read back from DynamoDB. Unlike DynamoDB, `listRuns` is immediately consistent.
 */
export class InMemoryStateStore implements StateStore {
  private readonly connections = new Map<string, Connection>();
  private readonly exports = new Map<string, ExportRecord>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly batches = new Map<string, Map<number, BatchState>>();
  private readonly samples = new Map<string, (ErrorSample & { sortKey: string })[]>();
  private readonly checkpoints = new Map<string, string>();
  /** exportId → key → { h, e } */
  private readonly snapshotContacts = new Map<string, Map<string, { h: string; e?: string }>>();
  /** exportId → segmentId → keys (and whether the membership is uncertain) */
  private readonly snapshotMembers = new Map<string, Map<string, Map<string, boolean>>>();
  private readonly lists = new Map<string, ListMapping>();

  // Connections

  async putConnection(connection: Connection, condition: Condition): Promise<boolean> {
    const existing = this.connections.get(connection.id);
    if (!conditionHolds(existing, condition)) return false;
    this.connections.set(
      connection.id,
      clone(keepSystemFields(connection, existing, CONNECTION_SYSTEM_FIELDS)),
    );
    return true;
  }

  async getConnection(id: string): Promise<Connection | undefined> {
    const c = this.connections.get(id);
    return c && ConnectionSchema.parse(clone(c));
  }

  async listConnections(): Promise<Connection[]> {
    return [...this.connections.values()]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((c) => ConnectionSchema.parse(clone(c)));
  }

  async deleteConnection(id: string): Promise<void> {
    this.connections.delete(id);
  }

  async claimProbe(
    connectionId: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean> {
    const c = this.connections.get(connectionId);
    if (!c) return false;
    const { probe, state, checkedAt, verifiedRun } = c.bulkMembership;
    if (probe && probe.claimant !== claimant && !(probe.startedAt < times.claimStaleBefore)) return false;
    const answerNeeded =
      state === 'unknown' ||
      checkedAt === undefined ||
      checkedAt < times.answerStaleBefore ||
      (state === 'supported' && verifiedRun !== times.forRun);
    if (!answerNeeded) return false;
    c.bulkMembership = { ...c.bulkMembership, probe: { claimant, startedAt: times.now } };
    return true;
  }

  async settleProbe(
    connectionId: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void> {
    const c = this.connections.get(connectionId);
    if (!c || c.bulkMembership.probe?.claimant !== claimant) return;
    const { probe: _released, verifiedRun: _previous, ...rest } = c.bulkMembership;
    if (result === 'unknown') {
      c.bulkMembership = { ...rest, ...(_previous === undefined ? {} : { verifiedRun: _previous }) };
      return;
    }
    c.bulkMembership = {
      ...rest,
      state: result,
      checkedAt: now,
      ...(result === 'supported' && verifiedRun !== undefined ? { verifiedRun } : {}),
    };
  }

  async resetBulkMembership(connectionId: string): Promise<void> {
    const c = this.connections.get(connectionId);
    if (c) c.bulkMembership = { state: 'unknown' };
  }

  async setConnectionStatus(connectionId: string, status: Connection['status']): Promise<void> {
    const c = this.connections.get(connectionId);
    if (!c) return;
    c.status = status;
  }

  // Exports

  async putExport(record: ExportRecord, condition: Condition): Promise<boolean> {
    const existing = this.exports.get(record.id);
    if (!conditionHolds(existing, condition)) return false;
    this.exports.set(record.id, clone(keepSystemFields(record, existing, EXPORT_SYSTEM_FIELDS)));
    return true;
  }

  async getExport(id: string): Promise<ExportRecord | undefined> {
    const e = this.exports.get(id);
    return e && ExportRecordSchema.parse(clone(e));
  }

  async listExports(): Promise<ExportRecord[]> {
    return [...this.exports.values()]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((e) => ExportRecordSchema.parse(clone(e)));
  }

  async deleteExport(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean> {
    const e = this.exports.get(id);
    if (e === undefined) return false;
    if (expect !== undefined && e.activeRunId !== expect.activeRunId) return false;
    this.exports.delete(id);
    return true;
  }

  async claimActiveRun(
    exportId: string,
    runId: string,
    replacing?: string,
    slot: RunSlot = 'run',
  ): Promise<boolean> {
    const e = this.exports.get(exportId);
    if (!e) return false;
    const field = lockField(slot);
    const holder = e[field];
    if (holder !== undefined && holder !== runId && (replacing === undefined || holder !== replacing)) {
      return false;
    }
    e[field] = runId;
    return true;
  }

  async releaseActiveRun(
    exportId: string,
    runId: string,
    lastRun: NonNullable<ExportRecord['lastRun']> | undefined,
    slot: RunSlot = 'run',
  ): Promise<void> {
    const e = this.exports.get(exportId);
    if (!e) return;
    const field = lockField(slot);
    if (e[field] === runId) delete e[field];
    if (lastRun !== undefined) e.lastRun = clone(lastRun);
  }

  // Runs

  async createRun(run: RunRecord): Promise<void> {
    if (this.runs.has(run.id)) throw new Error(`Run ${run.id} already exists`);
    const stored = clone(run);
    stored.progress.failedByReason ??= {};
    stored.progress.requests ??= {};
    this.runs.set(run.id, stored);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const r = this.runs.get(id);
    return r && RunRecordSchema.parse(clone(r));
  }

  async listRuns(
    exportId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ runs: RunRecord[]; next?: string }> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer`);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const all = [...this.runs.values()]
      .filter((r) => r.exportId === exportId)
      .sort((a, b) => (runSortKey(a) < runSortKey(b) ? 1 : -1))
      .filter((r) => after === undefined || runSortKey(r) < after);
    const page = all.slice(0, limit);
    const last = page[page.length - 1];
    const runs = page.map((r) => RunRecordSchema.parse(clone(r)));
    return all.length > limit && last ? { runs, next: encodeCursor(runSortKey(last)) } : { runs };
  }

  async transitionRun(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch: Partial<Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt'>> = {},
  ): Promise<boolean> {
    const r = this.runs.get(id);
    if (!r || !from.includes(r.status)) return false;
    r.status = to;
    assignDefined(r, patch);
    return true;
  }

  async leasePlanning(id: string, holder: string, now: string, until: string): Promise<boolean> {
    const r = this.mustRun(id);
    const lease = r.planLease;
    if (lease !== undefined && lease.holder !== holder && !(lease.until < now)) return false;
    r.planLease = { holder, until };
    return true;
  }

  async releasePlanning(id: string, holder: string): Promise<void> {
    const r = this.runs.get(id);
    if (r?.planLease?.holder === holder) delete r.planLease;
  }

  async commitPlan(
    id: string,
    plan: { batchesTotal: number; itemsPlanned: number; at: string },
  ): Promise<boolean> {
    const r = this.mustRun(id);
    if (r.batchesTotal !== undefined)
      return r.batchesTotal === plan.batchesTotal && r.itemsPlanned === plan.itemsPlanned;
    r.batchesTotal = plan.batchesTotal;
    r.itemsPlanned = plan.itemsPlanned;
    r.lastProgressAt = plan.at;
    return true;
  }

  async notePlanning(
    id: string,
    update: { at: string; checkpointed?: boolean; batchesQueued?: number },
  ): Promise<void> {
    const r = this.mustRun(id);
    r.lastProgressAt = update.at;
    if (update.checkpointed) r.checkpointed = true;
    if (update.batchesQueued !== undefined)
      r.batchesQueued = Math.max(r.batchesQueued ?? 0, update.batchesQueued);
  }

  async completePlanning(
    id: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void> {
    const r = this.mustRun(id);
    r.planningDone = true;
    assignDefined(r, clone(update));
  }

  async savePlanning(id: string, update: Pick<RunRecord, 'planning' | 'estimate'>): Promise<void> {
    assignDefined(this.mustRun(id), clone(update));
  }

  async requestCancel(id: string): Promise<void> {
    this.mustRun(id).cancelRequested = true;
  }

  async recordBatch(
    runId: string,
    batchNo: number,
    range: BatchRange,
    outcome: BatchOutcome,
  ): Promise<RecordResult> {
    const r = this.mustRun(runId);
    if (r.batchesTotal === undefined || batchNo >= r.batchesTotal)
      throw new BatchOutsidePlanError(runId, batchNo);
    const states = this.batches.get(runId) ?? new Map<number, BatchState>();
    this.batches.set(runId, states);
    const current = states.get(batchNo);
    if (
      (current === undefined && range.from !== 0) ||
      current?.done ||
      (current !== undefined && current.next !== range.from)
    ) {
      return { recorded: false, state: current ?? { next: 0, done: false } };
    }
    const state = { next: range.to, done: range.final };
    states.set(batchNo, state);
    r.lastProgressAt = outcome.at;
    const p = r.progress;
    if (range.final) p.batchesDone += 1;
    p.accepted += outcome.accepted;
    p.failed += Object.values(outcome.failed).reduce((a, b) => a + b, 0);
    p.dropped += outcome.dropped;
    p.throttled += outcome.throttled;
    addCounts(p.failedByReason, outcome.failed);
    addCounts(p.requests, outcome.requests);
    const samples = this.samples.get(runId) ?? [];
    outcome.samples.slice(0, SAMPLES_PER_BATCH).forEach((s, n) => {
      samples.push({
        email: s.email,
        reason: s.reason,
        batchNo: s.batchNo ?? batchNo,
        sortKey: `${String(batchNo).padStart(8, '0')}#${String(range.from).padStart(4, '0')}#${n}`,
      });
    });
    samples.sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1));
    this.samples.set(runId, samples);
    return { recorded: true, state: { ...state } };
  }

  async getBatch(runId: string, batchNo: number): Promise<BatchState | undefined> {
    const state = this.batches.get(runId)?.get(batchNo);
    const lease = this.batchLeases.get(`${runId}#${batchNo}`);
    if (state === undefined && lease === undefined) return undefined;
    return { ...(state ?? { next: 0, done: false }), ...(lease ? { leaseUntil: lease.until } : {}) };
  }

  private readonly batchLeases = new Map<string, { holder: string; until: string }>();

  async leaseBatch(
    runId: string,
    batchNo: number,
    holder: string,
    now: string,
    until: string,
  ): Promise<boolean> {
    if (this.batches.get(runId)?.get(batchNo)?.done) return false;
    const key = `${runId}#${batchNo}`;
    const lease = this.batchLeases.get(key);
    if (lease !== undefined && lease.holder !== holder && !(lease.until < now)) return false;
    this.batchLeases.set(key, { holder, until });
    return true;
  }

  async releaseBatch(runId: string, batchNo: number, holder: string): Promise<void> {
    const key = `${runId}#${batchNo}`;
    if (this.batchLeases.get(key)?.holder === holder) this.batchLeases.delete(key);
  }

  async addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void> {
    const r = this.mustRun(runId);
    addCounts(r.progress.requests, requests);
    r.progress.throttled += throttled;
  }

  async listErrorSamples(runId: string, limit: number): Promise<ErrorSample[]> {
    return (this.samples.get(runId) ?? []).slice(0, limit).map(({ sortKey: _k, ...s }) => ({ ...s }));
  }

  // Planner checkpoints

  async saveCheckpoint(runId: string, data: string): Promise<void> {
    this.checkpoints.set(runId, data);
  }

  async loadCheckpoint(runId: string): Promise<string | undefined> {
    return this.checkpoints.get(runId);
  }

  async deleteCheckpoint(runId: string): Promise<void> {
    this.checkpoints.delete(runId);
  }

  // Snapshot

  async *readSnapshot(exportId: string): AsyncIterable<StoredSnapshotEntry> {
    const contacts = this.snapshotContacts.get(exportId) ?? new Map<string, { h: string; e?: string }>();
    const members = this.snapshotMembers.get(exportId) ?? new Map<string, Map<string, boolean>>();
    const keys = new Set<string>(contacts.keys());
    for (const set of members.values()) for (const k of set.keys()) keys.add(k);
    const segments = [...members.keys()].sort();
    for (const key of [...keys].sort()) {
      const c = contacts.get(key);
      const entry: StoredSnapshotEntry = {
        key,
        hash: c?.h ?? '',
        segmentIds: segments.filter((s) => members.get(s)?.get(key) === false),
      };
      const maybe = segments.filter((s) => members.get(s)?.get(key) === true);
      if (maybe.length > 0) entry.maybeSegmentIds = maybe;
      if (c?.e !== undefined) entry.email = c.e;
      yield entry;
    }
  }

  async applySnapshot(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    const contacts = this.snapshotContacts.get(exportId) ?? new Map<string, { h: string; e?: string }>();
    const members = this.snapshotMembers.get(exportId) ?? new Map<string, Map<string, boolean>>();
    this.snapshotContacts.set(exportId, contacts);
    this.snapshotMembers.set(exportId, members);
    const member = (segmentId: string): Map<string, boolean> => {
      const set = members.get(segmentId) ?? new Map<string, boolean>();
      members.set(segmentId, set);
      return set;
    };
    for (const change of changes) {
      if (change.forget) contacts.delete(change.key);
      else if (change.hash !== null) {
        contacts.set(
          change.key,
          change.email === undefined ? { h: change.hash } : { h: change.hash, e: change.email },
        );
      }
      for (const s of change.maybe ?? []) member(s).set(change.key, true);
      for (const s of change.join) member(s).set(change.key, false);
      for (const s of change.leave) {
        members.get(s)?.delete(change.key);
        if (members.get(s)?.size === 0) members.delete(s);
      }
    }
  }

  async deleteSnapshot(exportId: string): Promise<void> {
    this.snapshotContacts.delete(exportId);
    this.snapshotMembers.delete(exportId);
    this.snapshotListIds.delete(exportId);
  }

  private readonly snapshotListIds = new Map<string, Record<string, string>>();

  async snapshotLists(exportId: string): Promise<Record<string, string>> {
    return { ...this.snapshotListIds.get(exportId) };
  }

  async setSnapshotList(exportId: string, segmentId: string, listId: string): Promise<void> {
    const lists = this.snapshotListIds.get(exportId) ?? {};
    const previous = lists[segmentId];
    if (previous === listId) return;
    if (previous !== undefined) this.snapshotMembers.get(exportId)?.delete(segmentId);
    this.snapshotListIds.set(exportId, { ...lists, [segmentId]: listId });
  }

  // Destination lists

  async getList(connectionId: string, title: string): Promise<ListMapping | undefined> {
    const l = this.lists.get(listKey(connectionId, title));
    return l && clone(l);
  }

  async claimList(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean> {
    const key = listKey(connectionId, title);
    const l = this.lists.get(key);
    if (l) {
      if ('listId' in l) return false;
      if (l.claimedBy !== runId && !(l.claimedAt < staleBefore)) return false;
    }
    this.lists.set(key, { claimedBy: runId, claimedAt: now });
    return true;
  }

  async saveList(connectionId: string, title: string, listId: string): Promise<void> {
    this.lists.set(listKey(connectionId, title), { listId });
  }

  async forgetList(connectionId: string, title: string): Promise<void> {
    this.lists.delete(listKey(connectionId, title));
  }

  // Membership targets

  private readonly targets = new Map<string, string>();

  async claimTargets(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>> {
    const conflicts = targets.flatMap((t) => {
      const owner = this.targets.get(targetKey(connectionId, t));
      return owner !== undefined && owner !== exportId ? [{ ...t, owner }] : [];
    });
    if (conflicts.length > 0) return conflicts;
    for (const t of targets) this.targets.set(targetKey(connectionId, t), exportId);
    return [];
  }

  async releaseTargets(
    connectionId: string,
    exportId: string,
    keep: readonly MembershipTarget[] = [],
  ): Promise<void> {
    const kept = new Set(keep.map((t) => targetKey(connectionId, t)));
    const prefix = JSON.stringify([connectionId]).slice(0, -1);
    for (const [key, owner] of [...this.targets]) {
      if (owner === exportId && key.startsWith(prefix) && !kept.has(key)) this.targets.delete(key);
    }
  }

  async targetOwners(
    connectionId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<string | undefined>> {
    return targets.map((t) => this.targets.get(targetKey(connectionId, t)));
  }

  private mustRun(id: string): RunRecord {
    const r = this.runs.get(id);
    if (!r) throw new Error(`Run ${id} does not exist`);
    return r;
  }
}

const listKey = (connectionId: string, title: string): string => JSON.stringify([connectionId, title]);
const targetKey = (connectionId: string, t: MembershipTarget): string =>
  JSON.stringify([connectionId, t.kind, t.name]);

const assignDefined = <T extends object>(target: T, patch: Partial<T>): void => {
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  }
};

const encodeCursor = (sortKey: string): string => Buffer.from(sortKey, 'utf8').toString('base64url');

const decodeCursor = (cursor: string): string => {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.includes('#')) {
    throw new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return decoded;
};
