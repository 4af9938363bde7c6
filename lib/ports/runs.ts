import type { RunRecord } from '#lib/domain/run-record.ts';

type RunPatch = Partial<
  Pick<RunRecord, 'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt' | 'hold' | 'lastProgressAt'>
>;

/** Run records and their status (DynamoDB in AWS). Writes that must happen once are conditional. */
export interface Runs {
  /** Refuses an existing id. */
  create(run: RunRecord): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  /** An export's runs, newest first. */
  list(exportId: string, limit: number, cursor?: string): Promise<{ runs: RunRecord[]; next?: string }>;
  /** Moves a run to `to` only if its status is one of `from`; returns whether it did. */
  transition(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch?: RunPatch,
  ): Promise<boolean>;
  requestCancel(id: string): Promise<void>;
}
