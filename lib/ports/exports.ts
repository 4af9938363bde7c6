import type { ExportConfig } from '#lib/domain/export-config.ts';
import type { ExportHealth } from '#lib/domain/export-health.ts';
import type { ExportRecord, RunSlot } from '#lib/domain/export-record.ts';
import type { EditStamp } from './connections.ts';

/**
 * Exports (DynamoDB in AWS). `version` counts the user's edits only: the run locks and the last run
 * are the system's and never touch it.
 */
export interface Exports {
  /** False when an export with this id exists. */
  create(record: ExportRecord): Promise<boolean>;
  /**
   * Applies `edit` to the configuration if the stored version is `expectVersion`: sets the fields,
   * `updatedBy`/`updatedAt` and `version + 1`, leaving run locks and the last run as stored. The
   * revised export, or undefined when it changed since (or is gone).
   */
  revise(
    id: string,
    expectVersion: number,
    edit: Partial<ExportConfig>,
    stamp: EditStamp,
  ): Promise<ExportRecord | undefined>;
  get(id: string): Promise<ExportRecord | undefined>;
  list(): Promise<ExportRecord[]>;
  /**
   * Deletes the export; with `expect`, only while its run lock is as given (absent: no run holds it).
   * True when this call deleted it: of concurrent deletes exactly one wins.
   */
  delete(id: string, expect?: { activeRunId: string | undefined }): Promise<boolean>;
  /**
   * Takes one of the export's run locks (or takes it over from `replacing`, a run known to be dead).
   * False when the export is gone or another run holds it.
   */
  claimActiveRun(exportId: string, runId: string, replacing?: string, slot?: RunSlot): Promise<boolean>;
  /** Releases the lock held by `runId` and, for a real run, records it as the export's last. */
  releaseActiveRun(
    exportId: string,
    runId: string,
    lastRun: NonNullable<ExportRecord['lastRun']> | undefined,
    slot?: RunSlot,
  ): Promise<void>;
  /**
   * Records the export's health if the stored one still has sequence `expectSeq` (undefined: none is
   * stored). False when it changed since (or the export is gone): of two runs ending at once, one
   * records its transition and the other reads again.
   */
  setHealth(exportId: string, health: ExportHealth, expectSeq: number | undefined): Promise<boolean>;
}
