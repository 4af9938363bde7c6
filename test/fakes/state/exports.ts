import type { ExportConfig } from '#lib/domain/export-config.ts';
import type { ExportHealth } from '#lib/domain/export-health.ts';
import { type ExportRecord, ExportRecordSchema, type RunSlot } from '#lib/domain/export-record.ts';
import type { EditStamp } from '#lib/ports/connections.ts';
import type { Exports } from '#lib/ports/exports.ts';
import { assignDefined, clone, type Tables } from './tables.ts';

const lockField = (slot: RunSlot): 'activeRunId' | 'activeDryRunId' =>
  slot === 'run' ? 'activeRunId' : 'activeDryRunId';

/** `Exports` in memory, with the DynamoDB adapter's conditions. */
export class InMemoryExports implements Exports {
  constructor(private readonly t: Tables) {}

  async create(record: ExportRecord): Promise<boolean> {
    if (this.t.exports.has(record.id)) return false;
    this.t.exports.set(record.id, clone(record));
    return true;
  }

  async revise(
    id: string,
    expectVersion: number,
    edit: Partial<ExportConfig>,
    stamp: EditStamp,
  ): Promise<ExportRecord | undefined> {
    const e = this.t.exports.get(id);
    if (e === undefined || e.version !== expectVersion) return undefined;
    assignDefined(e, clone(edit) as Partial<ExportRecord>);
    // DynamoDB stores null as null: a detached export keeps `connectionId: null`.
    if (edit.connectionId === null) e.connectionId = null;
    e.updatedBy = stamp.by;
    e.updatedAt = stamp.at;
    e.version += 1;
    return ExportRecordSchema.parse(clone(e));
  }

  async get(id: string): Promise<ExportRecord | undefined> {
    const e = this.t.exports.get(id);
    return e && ExportRecordSchema.parse(clone(e));
  }

  async list(): Promise<ExportRecord[]> {
    return [...this.t.exports.values()]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((e) => ExportRecordSchema.parse(clone(e)));
  }

  async delete(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean> {
    const e = this.t.exports.get(id);
    if (e === undefined) return false;
    if (expect !== undefined && e.activeRunId !== expect.activeRunId) return false;
    this.t.exports.delete(id);
    return true;
  }

  async claimActiveRun(
    exportId: string,
    runId: string,
    replacing?: string,
    slot: RunSlot = 'run',
  ): Promise<boolean> {
    const e = this.t.exports.get(exportId);
    if (!e) return false;
    const field = lockField(slot);
    const holder = e[field];
    if (holder !== undefined && holder !== runId && (replacing === undefined || holder !== replacing))
      return false;
    e[field] = runId;
    return true;
  }

  async releaseActiveRun(
    exportId: string,
    runId: string,
    lastRun: NonNullable<ExportRecord['lastRun']> | undefined,
    slot: RunSlot = 'run',
  ): Promise<void> {
    const e = this.t.exports.get(exportId);
    if (!e) return;
    const field = lockField(slot);
    if (e[field] === runId) delete e[field];
    if (lastRun !== undefined) e.lastRun = clone(lastRun);
  }

  async setHealth(exportId: string, health: ExportHealth, expectSeq: number | undefined): Promise<boolean> {
    const e = this.t.exports.get(exportId);
    if (!e || e.health?.seq !== expectSeq) return false;
    e.health = clone(health);
    return true;
  }
}
