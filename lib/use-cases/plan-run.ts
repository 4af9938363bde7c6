import { FatalRunError } from '#lib/domain/errors.ts';
import { MESSAGE_VERSION, type PlanMessage } from '#lib/domain/messages.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { parseCheckpoint } from './planning/checkpoint.ts';
import type { Context, PlanRunDeps, RunExport } from './planning/context.ts';
import { plan } from './planning/plan.ts';
import { endRun, fatalReason, finaliseIfComplete } from './run-lifecycle.ts';

export type { PlannerSettings, PlanRunDeps } from './planning/context.ts';

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

export const CHECKPOINT_EXPIRED_REASON =
  'The planning state of this run expired before planning could resume (planner checkpoints are kept ' +
  'for 2 days). Nothing more will be sent for this run; start the export again.';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Plans one run (docs/architecture.md#planning): reads every segment page by page, maps, validates
 * and merges profiles, enforces the cap before anything is sent, diffs against the snapshot, resolves
 * lists and queues batches. Checkpoints and re-queues itself when time runs short, so no segment size
 * reaches the Lambda time limit.
 *
 * Safe under at-least-once delivery: one invocation at a time holds the run's planning lease; the
 * plan is decided once, from a frozen snapshot, and saved before its first batch is queued, so a plan
 * message delivered again resumes or does nothing — it never plans again against a snapshot that
 * senders have already moved.
 */
export const planRun = async (
  deps: PlanRunDeps,
  message: PlanMessage,
  remainingMs: () => number,
): Promise<void> => {
  const run = await deps.runs.get(message.runId);
  if (run === undefined) {
    deps.logger.warn('plan message for an unknown run ignored', { runId: message.runId });
    return;
  }
  // A held run waits for a person: a plan message delivered again meanwhile has nothing to do.
  if (isTerminal(run.status) || run.status === 'awaiting_approval') return;
  if (run.planningDone) {
    await finaliseIfComplete(deps, run.id);
    return;
  }
  const now = deps.clock.now();
  const holder = `${now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  if (!(await deps.plans.lease(run.id, holder, iso(now), iso(now + remainingMs())))) {
    await lookAgainLater(deps, run.id, message, now);
    return;
  }
  let outcome: 'done' | 'paused' = 'done';
  try {
    outcome = await planLeased(deps, run, remainingMs);
  } finally {
    await deps.plans.release(run.id, holder);
  }
  // Queued after the lease is released, so the next invocation can take it at once.
  if (outcome === 'paused') {
    await deps.planQueue.send([
      { v: MESSAGE_VERSION, type: 'plan', runId: run.id, exportId: run.exportId, resume: true },
    ]);
  }
};

/** Another invocation is planning this run: look again when its lease (its deadline) has passed. */
const lookAgainLater = async (
  deps: PlanRunDeps,
  runId: string,
  message: PlanMessage,
  now: number,
): Promise<void> => {
  const latest = await deps.runs.get(runId);
  const until = latest?.planLease ? Date.parse(latest.planLease.until) : now;
  const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil((until - now) / 1000) + 1));
  deps.logger.info('run is being planned by another invocation; looking again later', {
    runId,
    delaySeconds,
  });
  await deps.planQueue.send([{ ...message, resume: true }], { delaySeconds });
};

const planLeased = async (
  deps: PlanRunDeps,
  run: RunRecord,
  remainingMs: () => number,
): Promise<'done' | 'paused'> => {
  if (run.cancelRequested) {
    await endRun(deps, run, 'cancelled', 'Cancelled before planning finished.');
    return 'done';
  }
  const live = await deps.exports.get(run.exportId);
  if (live === undefined) {
    await endRun(deps, run, 'failed', 'The export was deleted before its run could be planned.');
    return 'done';
  }
  const connection = await deps.connections.get(run.connectionId);
  if (connection === undefined || live.connectionId !== run.connectionId) {
    await endRun(deps, run, 'cancelled', 'The export lost its connection before the run could be planned.');
    return 'done';
  }
  const segments = [];
  for (const id of run.segmentIds) {
    const info = await deps.segments.getSegment(id);
    if (info === undefined) {
      await endRun(deps, run, 'failed', `Segment ${id} no longer exists.`);
      return 'done';
    }
    segments.push(info);
  }
  // The configuration frozen at run start: an edit made while the run plans does not change it.
  const frozen = run.config ?? live;
  const exp: RunExport = { ...frozen, id: live.id };
  const destination = deps.destinations.for(connection);
  if (!destination.membershipModes.includes(exp.membership)) {
    const modes = destination.membershipModes.join(' or ');
    await endRun(
      deps,
      run,
      'failed',
      `This export keeps membership as ${exp.membership}s, which ${destination.name} connections do not have ` +
        `(they take ${modes}); change the export's membership mode.`,
    );
    return 'done';
  }
  const ctx: Context = { deps, run, exp, connection, destination, segments, remainingMs };
  let text = await deps.checkpoints.load(run.id);
  if (text === undefined && (run.checkpointed === true || run.batchesTotal !== undefined)) {
    await endRun(deps, run, 'failed', CHECKPOINT_EXPIRED_REASON);
    return 'done';
  }
  // Large runs keep their contacts' texts off the heap (a file in /tmp); released when the invocation ends.
  const texts = deps.textStash?.();
  try {
    const checkpoint = text === undefined ? undefined : parseCheckpoint(text, texts);
    // Read: nothing of the stored body is kept while the run plans and queues.
    text = undefined;
    return await plan(ctx, checkpoint, texts);
  } catch (error) {
    if (error instanceof FatalRunError) {
      if (error.reason === 'invalid_api_key') await deps.connections.setStatus(connection.id, 'invalid_key');
      await endRun(deps, run, 'failed', fatalReason(error));
      return 'done';
    }
    deps.logger.error('planning failed; the message will be retried', {
      runId: run.id,
      exportId: run.exportId,
      error: String(error),
    });
    throw error;
  } finally {
    texts?.release();
  }
};
