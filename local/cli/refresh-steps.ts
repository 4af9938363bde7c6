import type { RunRecord } from '#lib/domain/run-record.ts';
import type { DropSegment } from '../refresh-drop.ts';
import type { LocalRuntime } from '../runtime.ts';

/** How long a drop's arrival may take: the planner verifies every file (reads it whole) first. */
const ARRIVAL_TIMEOUT_MS = 10 * 60_000;

const n = (v: number): string => v.toLocaleString('en-US');

export type DropStep =
  | { ok: true; refreshId: string; run: RunRecord | undefined; line: string }
  | { ok: false; refreshId: string; line: string };

/**
 * Drops a refresh and waits for its arrival to be handled, as the cloud's S3 → EventBridge →
 * planner would: answers the run it started for `exportId` (none when no export was given), and
 * one line saying what happened.
 */
export const dropAndArrive = async (
  runtime: LocalRuntime,
  segments: readonly DropSegment[],
  exportId?: string,
): Promise<DropStep> => {
  const dropped = await runtime.dropRefresh(segments);
  const { refreshId } = dropped;
  const arrival = await runtime.waitForRefresh(refreshId, { timeoutMs: ARRIVAL_TIMEOUT_MS });
  if (arrival.delivery.error !== undefined) {
    return {
      ok: false,
      refreshId,
      line: `refresh ${refreshId} could not be handled: ${arrival.delivery.error}`,
    };
  }
  const status = await runtime.state.refreshes.get(refreshId);
  if (status?.outcome === 'rejected') {
    return {
      ok: false,
      refreshId,
      line: `refresh ${refreshId} rejected: ${(status.reasons ?? []).join('; ')}`,
    };
  }
  const segmentsLine = dropped.manifest.segments
    .flatMap((s) => s.files.map((f) => `${f.key} ${n(f.rows ?? 0)} ${f.rows === 1 ? 'row' : 'rows'}`))
    .join(' · ');
  if (exportId === undefined) {
    return {
      ok: true,
      refreshId,
      run: undefined,
      line: `refresh ${refreshId} arrived (${segmentsLine}); no export uses its segments yet`,
    };
  }
  const run = arrival.runs.find((r) => r.exportId === exportId);
  if (run === undefined) {
    return { ok: false, refreshId, line: `refresh ${refreshId} arrived but started no run of the export` };
  }
  if (run.status === 'skipped') {
    return {
      ok: false,
      refreshId,
      line: `refresh ${refreshId} arrived → run ${run.id} skipped: ${run.reason ?? ''}`,
    };
  }
  return { ok: true, refreshId, run, line: `refresh ${refreshId} arrived → run ${run.id} started` };
};
