import { ValidationError } from '#lib/domain/errors.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { ExportRecord, StateStore } from '#lib/ports/state-store.ts';

export interface ExportDeps {
  store: StateStore;
  segments: SegmentSource;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

/** Every selected segment must exist in the source; the error names each missing one by path. */
export const checkSegmentsExist = async (segments: SegmentSource, ids: readonly string[]): Promise<void> => {
  const missing: Array<{ path: string; reason: string }> = [];
  for (const [i, id] of ids.entries()) {
    if ((await segments.getSegment(id)) === undefined) {
      missing.push({ path: `segmentIds.${i}`, reason: `no segment "${id}" exists in the segment source` });
    }
  }
  if (missing.length > 0) throw new ValidationError(missing);
};

/** Saves a new export. Saving never runs it. */
export const createExport = async (
  deps: ExportDeps,
  input: unknown,
  actor: string,
): Promise<ExportRecord> => {
  const config = parseOrThrow(ExportConfigSchema, input);
  if (config.connectionId !== null && (await deps.store.getConnection(config.connectionId)) === undefined) {
    throw new ValidationError([{ path: 'connectionId', reason: 'no such connection' }]);
  }
  await checkSegmentsExist(deps.segments, config.segmentIds);
  const now = new Date(deps.clock.now()).toISOString();
  const record: ExportRecord = {
    ...config,
    id: deps.newId(),
    createdBy: actor,
    createdAt: now,
    updatedBy: actor,
    updatedAt: now,
    version: 1,
  };
  if (!(await deps.store.putExport(record, { expectNew: true }))) {
    throw new ValidationError([{ path: 'id', reason: 'an export with this id already exists' }]);
  }
  deps.logger.info('export created', { exportId: record.id, by: actor });
  return record;
};
