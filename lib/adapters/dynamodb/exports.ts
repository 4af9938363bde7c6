import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { ExportConfig } from '#lib/domain/export-config.ts';
import type { ExportHealth } from '#lib/domain/export-health.ts';
import { type ExportRecord, ExportRecordSchema, type RunSlot } from '#lib/domain/export-record.ts';
import type { EditStamp } from '#lib/ports/connections.ts';
import type { Exports } from '#lib/ports/exports.ts';
import { createItem, getItem, queryIndex, reviseItem, updateItem } from './item-ops.ts';
import { Expr, fromItem, isConditionFailed, keys, type TableContext, toItem } from './records.ts';

const lockField = (slot: RunSlot): 'activeRunId' | 'activeDryRunId' =>
  slot === 'run' ? 'activeRunId' : 'activeDryRunId';

/**
 * `Exports` on the state table (`EXPORT#<id>` / `META`, listed through GSI1 `EXPORTS`). The run locks
 * and the last run are the system's: they never touch `version`, and `revise` never overwrites them.
 */
export class DynamoDbExports implements Exports {
  constructor(private readonly ctx: TableContext) {}

  create(record: ExportRecord): Promise<boolean> {
    return createItem(this.ctx, {
      ...record,
      ...keys.export(record.id),
      gsi1pk: 'EXPORTS',
      gsi1sk: record.id,
    });
  }

  revise(
    id: string,
    expectVersion: number,
    edit: Partial<ExportConfig>,
    stamp: EditStamp,
  ): Promise<ExportRecord | undefined> {
    return reviseItem(this.ctx, keys.export(id), ExportRecordSchema, expectVersion, edit, stamp);
  }

  get(id: string): Promise<ExportRecord | undefined> {
    return getItem(this.ctx, keys.export(id), ExportRecordSchema);
  }

  async list(): Promise<ExportRecord[]> {
    return (await queryIndex(this.ctx, 'EXPORTS')).map((item) => fromItem(ExportRecordSchema, item));
  }

  async delete(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean> {
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
    return updateItem(this.ctx, keys.export(exportId), (e) => {
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
    const released = await updateItem(this.ctx, keys.export(exportId), (e) => ({
      update:
        (lastRun === undefined ? '' : `SET ${e.path('lastRun')} = ${e.value(lastRun)} `) +
        `REMOVE ${e.path(lockField(slot))}`,
      condition: `${e.path(lockField(slot))} = ${e.value(runId)}`,
    }));
    if (released || lastRun === undefined) return;
    await updateItem(this.ctx, keys.export(exportId), (e) => ({
      update: `SET ${e.path('lastRun')} = ${e.value(lastRun)}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }

  setHealth(exportId: string, health: ExportHealth, expectSeq: number | undefined): Promise<boolean> {
    return updateItem(this.ctx, keys.export(exportId), (e) => {
      const stored = e.path('health');
      const expected =
        expectSeq === undefined
          ? `attribute_not_exists(${stored})`
          : `${e.path('health', 'seq')} = ${e.value(expectSeq)}`;
      return {
        update: `SET ${stored} = ${e.value(health)}`,
        condition: `attribute_exists(${e.path('pk')}) AND ${expected}`,
      };
    });
  }
}
