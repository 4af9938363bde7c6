import { ValidationError } from '#lib/domain/errors.ts';
import { type RunRecord, RunRecordSchema } from '#lib/domain/run-record.ts';
import type { Runs } from '#lib/ports/runs.ts';
import { assignDefined, clone, type Tables } from './tables.ts';

const runSortKey = (run: RunRecord): string => `${run.createdAt}#${run.id}`;
const encodeCursor = (sortKey: string): string => Buffer.from(sortKey, 'utf8').toString('base64url');
const decodeCursor = (cursor: string): string => {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.includes('#')) {
    throw new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return decoded;
};

/** `Runs` in memory. Unlike DynamoDB's GSI, `list` is immediately consistent. */
export class InMemoryRuns implements Runs {
  constructor(private readonly t: Tables) {}

  async create(run: RunRecord): Promise<void> {
    if (this.t.runs.has(run.id)) throw new Error(`Run ${run.id} already exists`);
    const stored = clone(run);
    stored.progress.failedByReason ??= {};
    stored.progress.requests ??= {};
    this.t.runs.set(run.id, stored);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const r = this.t.runs.get(id);
    return r && RunRecordSchema.parse(clone(r));
  }

  async list(
    exportId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ runs: RunRecord[]; next?: string }> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const all = [...this.t.runs.values()]
      .filter((r) => r.exportId === exportId)
      .sort((a, b) => (runSortKey(a) < runSortKey(b) ? 1 : -1))
      .filter((r) => after === undefined || runSortKey(r) < after);
    const page = all.slice(0, limit);
    const last = page[page.length - 1];
    const runs = page.map((r) => RunRecordSchema.parse(clone(r)));
    return all.length > limit && last ? { runs, next: encodeCursor(runSortKey(last)) } : { runs };
  }

  async transition(
    id: string,
    from: readonly RunRecord['status'][],
    to: RunRecord['status'],
    patch: Partial<
      Pick<
        RunRecord,
        'reason' | 'finishedAt' | 'durationMs' | 'planningFinishedAt' | 'hold' | 'lastProgressAt'
      >
    > = {},
  ): Promise<boolean> {
    const r = this.t.runs.get(id);
    if (!r || !from.includes(r.status)) return false;
    r.status = to;
    assignDefined(r, clone(patch));
    return true;
  }

  async requestCancel(id: string): Promise<void> {
    this.t.mustRun(id).cancelRequested = true;
  }
}
