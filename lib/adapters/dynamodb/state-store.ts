import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type * as z from 'zod';
import type { MembershipTarget } from '#lib/domain/membership-targets.ts';
import type { BulkMembership } from '#lib/domain/plan.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import {
  type BatchOutcome,
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
  type RunSlot,
  type SnapshotChange,
  type StateStore,
  type StoredSnapshotEntry,
} from '#lib/ports/state-store.ts';
import * as checkpoints from './checkpoints.ts';
import {
  DEFAULT_TTL_DAYS,
  Expr,
  fromItem,
  type Item,
  isConditionFailed,
  keys,
  ListMappingItemSchema,
  type TableContext,
  type TtlDays,
  toItem,
} from './records.ts';
import * as runs from './runs.ts';
import * as snapshot from './snapshot.ts';
import * as targetItems from './targets.ts';

export { CorruptItemError } from './records.ts';
export { RunNotFoundError } from './runs.ts';

type Key = { pk: string; sk: string };

/** Fields the system owns on connections and exports: a user's revision never overwrites them. */
const CONNECTION_SYSTEM_FIELDS = ['status', 'bulkMembership'] as const;
const EXPORT_SYSTEM_FIELDS = ['activeRunId', 'activeDryRunId', 'lastRun'] as const;

const lockField = (slot: RunSlot): 'activeRunId' | 'activeDryRunId' =>
  slot === 'run' ? 'activeRunId' : 'activeDryRunId';
type WriteCondition = { expectVersion?: number; expectNew?: boolean };

export interface DynamoDbStateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  ttlDays?: Partial<TtlDays>;
}

/**
 * `StateStore` on one DynamoDB table; key design and the reasons for it in ./README.md. Every item
 * read back is validated with the port's schemas (a corrupt item throws `CorruptItemError` naming
 * its key and field); every write that must happen once is conditional.
 *
 * System writes on a connection or export (probe, status flag, run lock) leave its `version` alone, and
 * a user's revision never overwrites them: the user's version counts the user's edits only.
 */
export class DynamoDbStateStore implements StateStore {
  private readonly ctx: TableContext;

  constructor(options: DynamoDbStateStoreOptions) {
    this.ctx = {
      client: options.client,
      tableName: options.tableName,
      clock: options.clock ?? systemClock,
      ttlDays: { ...DEFAULT_TTL_DAYS, ...options.ttlDays },
    };
  }

  // Connections

  putConnection(connection: Connection, condition: WriteCondition): Promise<boolean> {
    return this.putVersioned(
      { ...connection, ...keys.connection(connection.id), gsi1pk: 'CONNS', gsi1sk: connection.id },
      condition,
      CONNECTION_SYSTEM_FIELDS,
    );
  }

  getConnection(id: string): Promise<Connection | undefined> {
    return this.get(keys.connection(id), ConnectionSchema);
  }

  async listConnections(): Promise<Connection[]> {
    return (await this.queryIndex('CONNS')).map((item) => fromItem(ConnectionSchema, item));
  }

  deleteConnection(id: string): Promise<void> {
    return this.delete(keys.connection(id));
  }

  claimProbe(
    connectionId: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean> {
    return this.update(keys.connection(connectionId), (e) => {
      const probe = e.path('bulkMembership', 'probe');
      const checkedAt = e.path('bulkMembership', 'checkedAt');
      const state = e.path('bulkMembership', 'state');
      const verifiedRun = e.path('bulkMembership', 'verifiedRun');
      return {
        update: `SET ${probe} = ${e.value({ claimant, startedAt: times.now })}`,
        condition:
          `attribute_exists(${e.path('pk')}) AND (attribute_not_exists(${probe}) OR ` +
          `${e.path('bulkMembership', 'probe', 'startedAt')} < ${e.value(times.claimStaleBefore)} OR ` +
          `${e.path('bulkMembership', 'probe', 'claimant')} = ${e.value(claimant)}) AND ` +
          `(${state} = ${e.value('unknown')} OR attribute_not_exists(${checkedAt}) OR ` +
          `${checkedAt} < ${e.value(times.answerStaleBefore)} OR ` +
          `(${state} = ${e.value('supported')} AND (attribute_not_exists(${verifiedRun}) OR ` +
          `${verifiedRun} <> ${e.value(times.forRun)})))`,
      };
    });
  }

  async settleProbe(
    connectionId: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void> {
    await this.update(keys.connection(connectionId), (e) => {
      const probe = e.path('bulkMembership', 'probe');
      if (result === 'unknown') {
        return {
          update: `REMOVE ${probe}`,
          condition: `${e.path('bulkMembership', 'probe', 'claimant')} = ${e.value(claimant)}`,
        };
      }
      const verified = e.path('bulkMembership', 'verifiedRun');
      const set = [
        `${e.path('bulkMembership', 'state')} = ${e.value(result)}`,
        `${e.path('bulkMembership', 'checkedAt')} = ${e.value(now)}`,
      ];
      const remove = [probe];
      if (result === 'supported' && verifiedRun !== undefined)
        set.push(`${verified} = ${e.value(verifiedRun)}`);
      else remove.push(verified);
      return {
        update: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        condition: `${e.path('bulkMembership', 'probe', 'claimant')} = ${e.value(claimant)}`,
      };
    });
  }

  async resetBulkMembership(connectionId: string): Promise<void> {
    await this.update(keys.connection(connectionId), (e) => ({
      update: `SET ${e.path('bulkMembership')} = ${e.value({ state: 'unknown' })}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }

  async setConnectionStatus(connectionId: string, status: Connection['status']): Promise<void> {
    await this.update(keys.connection(connectionId), (e) => ({
      update: `SET ${e.path('status')} = ${e.value(status)}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }

  // Exports

  putExport(record: ExportRecord, condition: WriteCondition): Promise<boolean> {
    return this.putVersioned(
      { ...record, ...keys.export(record.id), gsi1pk: 'EXPORTS', gsi1sk: record.id },
      condition,
      EXPORT_SYSTEM_FIELDS,
    );
  }

  getExport(id: string): Promise<ExportRecord | undefined> {
    return this.get(keys.export(id), ExportRecordSchema);
  }

  async listExports(): Promise<ExportRecord[]> {
    return (await this.queryIndex('EXPORTS')).map((item) => fromItem(ExportRecordSchema, item));
  }

  async deleteExport(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean> {
    const e = new Expr();
    const lock =
      expect === undefined
        ? ''
        : expect.activeRunId === undefined
          ? ` AND attribute_not_exists(${e.path('activeRunId')})`
          : ` AND ${e.path('activeRunId')} = ${e.value(expect.activeRunId)}`;
    try {
      await this.ctx.client.send(
        new DeleteItemCommand({
          TableName: this.ctx.tableName,
          Key: toItem(keys.export(id)),
          ConditionExpression: `attribute_exists(${e.path('pk')})${lock}`,
          ...e.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  claimActiveRun(
    exportId: string,
    runId: string,
    replacing?: string,
    slot: RunSlot = 'run',
  ): Promise<boolean> {
    return this.update(keys.export(exportId), (e) => {
      const holder = e.path(lockField(slot));
      const run = e.value(runId);
      const takeover = replacing === undefined ? '' : ` OR ${holder} = ${e.value(replacing)}`;
      return {
        update: `SET ${holder} = ${run}`,
        condition: `attribute_exists(${e.path('pk')}) AND (attribute_not_exists(${holder}) OR ${holder} = ${run}${takeover})`,
      };
    });
  }

  /**
   * The holder releases the lock and (a real run) records itself as the last run. A run that does not
   * hold the lock (a skipped run, or a dead run that was taken over and finished late) still records
   * itself as the last run — it is the run that finished most recently — but leaves the lock alone.
   */
  async releaseActiveRun(
    exportId: string,
    runId: string,
    lastRun: NonNullable<ExportRecord['lastRun']> | undefined,
    slot: RunSlot = 'run',
  ): Promise<void> {
    const released = await this.update(keys.export(exportId), (e) => ({
      update:
        (lastRun === undefined ? '' : `SET ${e.path('lastRun')} = ${e.value(lastRun)} `) +
        `REMOVE ${e.path(lockField(slot))}`,
      condition: `${e.path(lockField(slot))} = ${e.value(runId)}`,
    }));
    if (released || lastRun === undefined) return;
    await this.update(keys.export(exportId), (e) => ({
      update: `SET ${e.path('lastRun')} = ${e.value(lastRun)}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }

  // Runs

  createRun(run: RunRecord): Promise<void> {
    return runs.createRun(this.ctx, run);
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return runs.getRun(this.ctx, id);
  }

  listRuns(exportId: string, limit: number, cursor?: string): Promise<{ runs: RunRecord[]; next?: string }> {
    return runs.listRuns(this.ctx, exportId, limit, cursor);
  }

  transitionRun(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch?: Partial<Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt'>>,
  ): Promise<boolean> {
    return runs.transitionRun(this.ctx, id, from, to, patch);
  }

  /** Sets `planningDone` and the totals; the status is the caller's to move. */
  leasePlanning(id: string, holder: string, now: string, until: string): Promise<boolean> {
    return runs.leasePlanning(this.ctx, id, holder, now, until);
  }

  releasePlanning(id: string, holder: string): Promise<void> {
    return runs.releasePlanning(this.ctx, id, holder);
  }

  commitPlan(id: string, plan: { batchesTotal: number; itemsPlanned: number; at: string }): Promise<boolean> {
    return runs.commitPlan(this.ctx, id, plan);
  }

  notePlanning(
    id: string,
    update: { at: string; checkpointed?: boolean; batchesQueued?: number },
  ): Promise<void> {
    return runs.notePlanning(this.ctx, id, update);
  }

  completePlanning(
    id: string,
    update: Pick<RunRecord, 'planning' | 'estimate' | 'planningFinishedAt'>,
  ): Promise<void> {
    return runs.setRunFields(this.ctx, id, { ...update, planningDone: true });
  }

  savePlanning(id: string, update: Pick<RunRecord, 'planning' | 'estimate'>): Promise<void> {
    return runs.setRunFields(this.ctx, id, { planning: update.planning, estimate: update.estimate });
  }

  requestCancel(id: string): Promise<void> {
    return runs.setRunFields(this.ctx, id, { cancelRequested: true });
  }

  recordBatch(
    runId: string,
    batchNo: number,
    range: BatchRange,
    outcome: BatchOutcome,
  ): Promise<RecordResult> {
    return runs.recordBatch(this.ctx, runId, batchNo, range, outcome);
  }

  getBatch(runId: string, batchNo: number): Promise<BatchState | undefined> {
    return runs.getBatch(this.ctx, runId, batchNo);
  }

  leaseBatch(runId: string, batchNo: number, holder: string, now: string, until: string): Promise<boolean> {
    return runs.leaseBatch(this.ctx, runId, batchNo, holder, now, until);
  }

  releaseBatch(runId: string, batchNo: number, holder: string): Promise<void> {
    return runs.releaseBatch(this.ctx, runId, batchNo, holder);
  }

  addRequests(runId: string, requests: Record<string, number>, throttled: number): Promise<void> {
    return runs.addRequests(this.ctx, runId, requests, throttled);
  }

  listErrorSamples(runId: string, limit: number): Promise<ErrorSample[]> {
    return runs.listErrorSamples(this.ctx, runId, limit);
  }

  // Planner checkpoints

  saveCheckpoint(runId: string, data: string): Promise<void> {
    return checkpoints.saveCheckpoint(this.ctx, runId, data);
  }

  loadCheckpoint(runId: string): Promise<string | undefined> {
    return checkpoints.loadCheckpoint(this.ctx, runId);
  }

  deleteCheckpoint(runId: string): Promise<void> {
    return checkpoints.deleteCheckpoint(this.ctx, runId);
  }

  // Snapshot

  readSnapshot(exportId: string): AsyncIterable<StoredSnapshotEntry> {
    return snapshot.readSnapshot(this.ctx, exportId);
  }

  applySnapshot(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    return snapshot.applySnapshot(this.ctx, exportId, changes);
  }

  deleteSnapshot(exportId: string): Promise<void> {
    return snapshot.deleteSnapshot(this.ctx, exportId);
  }

  snapshotLists(exportId: string): Promise<Record<string, string>> {
    return snapshot.snapshotLists(this.ctx, exportId);
  }

  setSnapshotList(exportId: string, segmentId: string, listId: string): Promise<void> {
    return snapshot.setSnapshotList(this.ctx, exportId, segmentId, listId);
  }

  // Destination lists

  getList(connectionId: string, title: string): Promise<ListMapping | undefined> {
    return this.get(keys.list(connectionId, title), ListMappingItemSchema);
  }

  /** Claims list creation unless the list exists or another run's claim is younger than `staleBefore`. */
  async claimList(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean> {
    const e = new Expr();
    const ConditionExpression =
      `attribute_not_exists(${e.path('pk')}) OR (attribute_not_exists(${e.path('listId')}) AND ` +
      `(${e.path('claimedAt')} < ${e.value(staleBefore)} OR ${e.path('claimedBy')} = ${e.value(runId)}))`;
    try {
      await this.ctx.client.send(
        new PutItemCommand({
          TableName: this.ctx.tableName,
          Item: toItem({ ...keys.list(connectionId, title), claimedBy: runId, claimedAt: now }),
          ConditionExpression,
          ...e.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async saveList(connectionId: string, title: string, listId: string): Promise<void> {
    await this.ctx.client.send(
      new PutItemCommand({
        TableName: this.ctx.tableName,
        Item: toItem({ ...keys.list(connectionId, title), listId }),
      }),
    );
  }

  forgetList(connectionId: string, title: string): Promise<void> {
    return this.delete(keys.list(connectionId, title));
  }

  // Membership targets

  claimTargets(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>> {
    return targetItems.claimTargets(this.ctx, connectionId, exportId, targets);
  }

  releaseTargets(connectionId: string, exportId: string, keep?: readonly MembershipTarget[]): Promise<void> {
    return targetItems.releaseTargets(this.ctx, connectionId, exportId, keep);
  }

  targetOwners(
    connectionId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<string | undefined>> {
    return targetItems.targetOwners(this.ctx, connectionId, targets);
  }

  // Helpers

  private async get<S extends z.ZodType>(key: Key, schema: S): Promise<z.output<S> | undefined> {
    const out = await this.ctx.client.send(
      new GetItemCommand({ TableName: this.ctx.tableName, Key: toItem(key), ConsistentRead: true }),
    );
    return out.Item && fromItem(schema, out.Item);
  }

  private async delete(key: Key): Promise<void> {
    await this.ctx.client.send(new DeleteItemCommand({ TableName: this.ctx.tableName, Key: toItem(key) }));
  }

  /**
   * A create (`expectNew`) puts the whole item. A revision (`expectVersion`) updates the user's fields
   * only, leaving `systemFields` (run locks, probe answers, status flags) as the system last wrote them.
   */
  private async putVersioned(
    item: Record<string, unknown>,
    condition: WriteCondition,
    systemFields: readonly string[],
  ): Promise<boolean> {
    const e = new Expr();
    const clauses: string[] = [];
    if (condition.expectNew) clauses.push(`attribute_not_exists(${e.path('pk')})`);
    if (condition.expectVersion !== undefined) {
      clauses.push(`${e.path('version')} = ${e.value(condition.expectVersion)}`);
      if (!condition.expectNew) return this.revise(item, clauses.join(' AND '), e, systemFields);
    }
    try {
      await this.ctx.client.send(
        new PutItemCommand({
          TableName: this.ctx.tableName,
          Item: toItem(item),
          ...(clauses.length > 0 ? { ConditionExpression: clauses.join(' AND '), ...e.attributes() } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private async revise(
    item: Record<string, unknown>,
    condition: string,
    e: Expr,
    systemFields: readonly string[],
  ): Promise<boolean> {
    const skip = new Set<string>(['pk', 'sk', ...systemFields]);
    const set = Object.entries(item)
      .filter(([k, v]) => !skip.has(k) && v !== undefined)
      .map(([k, v]) => `${e.path(k)} = ${e.value(v)}`);
    try {
      await this.ctx.client.send(
        new UpdateItemCommand({
          TableName: this.ctx.tableName,
          Key: toItem({ pk: item.pk, sk: item.sk }),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: condition,
          ...e.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** A conditional UpdateItem; false when the condition did not hold. */
  private async update(
    key: Key,
    build: (e: Expr) => { update: string; condition: string },
  ): Promise<boolean> {
    const e = new Expr();
    const { update, condition } = build(e);
    try {
      await this.ctx.client.send(
        new UpdateItemCommand({
          TableName: this.ctx.tableName,
          Key: toItem(key),
          UpdateExpression: update,
          ConditionExpression: condition,
          ...e.attributes(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private async queryIndex(gsi1pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: gsi1pk } },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
