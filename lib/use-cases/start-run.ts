import type { Connection } from '#lib/domain/connection.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { type ExportConfig, REPAIR_NOT_IN_FIELD_MODE } from '#lib/domain/export-config.ts';
import type { ExportRecord, RunSlot } from '#lib/domain/export-record.ts';
import type { PlanMessage } from '#lib/domain/messages.ts';
import { MESSAGE_VERSION } from '#lib/domain/messages.ts';
import { type ContactFilter, isTerminal, type RunTrigger } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { Exports } from '#lib/ports/exports.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import type { Runs } from '#lib/ports/runs.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { WorkQueue } from '#lib/ports/work-queue.ts';
import { upperBoundEstimate } from './estimate.ts';

export interface StartRunDeps {
  runs: Runs;
  exports: Exports;
  connections: Pick<Connections, 'get'>;
  segments: SegmentSource;
  planQueue: WorkQueue<PlanMessage>;
  destinations: Destinations;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  newId: () => string;
}

/** Why an export cannot run right now, in words for the person who asked. */
export class RunRefusedError extends Error {
  override readonly name = 'RunRefusedError';
  constructor(
    message: string,
    readonly code: 'export_not_found' | 'no_connection' | 'connection_not_usable' | 'segment_missing',
  ) {
    super(message);
  }
}

export type StartRunResult = { started: true; run: RunRecord } | { started: false; run: RunRecord };

export const emptyProgress = (): RunRecord['progress'] => ({
  batchesDone: 0,
  accepted: 0,
  failed: 0,
  dropped: 0,
  throttled: 0,
  failedByReason: {},
  requests: {},
});

/** Checks that an export may run on its connection; the message says what to fix. */
export const runnableConnection = async (
  connections: Pick<Connections, 'get'>,
  exp: ExportRecord,
): Promise<Connection> => {
  if (exp.connectionId === null) {
    throw new RunRefusedError(
      `Export "${exp.name}" has no connection; attach one before running it.`,
      'no_connection',
    );
  }
  const connection = await connections.get(exp.connectionId);
  if (connection === undefined) {
    throw new RunRefusedError(
      `Export "${exp.name}" uses a connection that no longer exists.`,
      'no_connection',
    );
  }
  if (connection.status === 'invalid_key') {
    throw new RunRefusedError(
      `Autopilot rejected the API key of connection "${connection.displayName}"; an admin must rotate it.`,
      'connection_not_usable',
    );
  }
  return connection;
};

/**
 * Starts a run of one export: records it with the export's configuration frozen, takes the export's
 * one-active-run lock (a dry run takes the one-active-dry-run lock, which never blocks real runs) and
 * queues planning. When another run is still active, records a `skipped` run instead.
 */
export const startRun = async (
  deps: StartRunDeps,
  request: {
    exportId: string;
    trigger: RunTrigger;
    requestedBy: string;
    refreshId?: string;
    /** Only these contacts are planned and sent (a re-send or a retry of failed contacts). */
    contacts?: ContactFilter;
    retryOf?: string;
    /** Read the lists back and repair drift first (docs/architecture.md#drift-repair). */
    repair?: boolean;
  },
): Promise<StartRunResult> => {
  const { runs, exports, clock } = deps;
  const exp = await exports.get(request.exportId);
  if (exp === undefined)
    throw new RunRefusedError(`Export ${request.exportId} does not exist.`, 'export_not_found');
  const repair = repairs(exp, request);
  const connection = await runnableConnection(deps.connections, exp);

  const sizes: number[] = [];
  for (const id of exp.segmentIds) {
    const segment = await deps.segments.getSegment(id);
    if (segment === undefined) {
      throw new RunRefusedError(
        `Segment ${id} selected by export "${exp.name}" no longer exists.`,
        'segment_missing',
      );
    }
    // A run naming its contacts reads the segments but sends at most those contacts.
    sizes.push(Math.min(segment.profiles, request.contacts?.emails.length ?? segment.profiles));
  }

  const now = clock.now();
  const run: RunRecord = {
    id: deps.newId(),
    exportId: exp.id,
    connectionId: connection.id,
    trigger: request.trigger,
    status: 'planning',
    requestedBy: request.requestedBy,
    ...(request.refreshId === undefined ? {} : { refreshId: request.refreshId }),
    ...(request.contacts === undefined ? {} : { contacts: request.contacts }),
    ...(request.retryOf === undefined ? {} : { retryOf: request.retryOf }),
    ...(repair ? { repair } : {}),
    createdAt: new Date(now).toISOString(),
    segmentIds: exp.segmentIds,
    membership: exp.membership,
    config: configOf(exp),
    planningDone: false,
    progress: emptyProgress(),
    estimate: upperBoundEstimate(
      sizes,
      exp.membership,
      deps.destinations.for(connection).costs,
      connection.bulkMembership.state,
      connection.ratePerSecond,
    ),
  };
  await runs.create(run);
  const log = deps.logger.child({ runId: run.id, exportId: exp.id });

  const slot: RunSlot = request.trigger === 'dry-run' ? 'dry-run' : 'run';
  if (!(await takeLock(deps, exp, run.id, slot))) {
    const latest = await exports.get(exp.id);
    const active = (slot === 'run' ? latest?.activeRunId : latest?.activeDryRunId) ?? 'another run';
    const waiting =
      slot === 'run' &&
      latest?.activeRunId !== undefined &&
      (await runs.get(latest.activeRunId))?.status === 'awaiting_approval';
    const reason =
      slot === 'dry-run'
        ? `Dry run ${active} of this export is still in progress; one dry run at a time.`
        : waiting
          ? `Run ${active} of this export is awaiting approval of its removals; runs never overlap.`
          : `Run ${active} of this export is still in progress; runs never overlap.`;
    await runs.transition(run.id, ['planning'], 'skipped', {
      reason,
      finishedAt: run.createdAt,
      durationMs: 0,
    });
    log.info('run skipped', { reason });
    deps.metrics?.count('RunsSkipped');
    return { started: false, run: { ...run, status: 'skipped', reason } };
  }

  await deps.planQueue.send([
    { v: MESSAGE_VERSION, type: 'plan', runId: run.id, exportId: exp.id, resume: false },
  ]);
  log.info('run started', { trigger: run.trigger, estimate: run.estimate });
  return { started: true, run };
};

/** Takes the lock, or takes it over from a run that has already ended (or never got recorded). */
const takeLock = async (
  { runs, exports }: Pick<StartRunDeps, 'runs' | 'exports'>,
  exp: ExportRecord,
  runId: string,
  slot: RunSlot,
): Promise<boolean> => {
  if (await exports.claimActiveRun(exp.id, runId, undefined, slot)) return true;
  const current = await exports.get(exp.id);
  const holder = slot === 'run' ? current?.activeRunId : current?.activeDryRunId;
  if (holder === undefined) return exports.claimActiveRun(exp.id, runId, undefined, slot);
  const active = await runs.get(holder);
  if (active !== undefined && !isTerminal(active.status)) return false;
  return exports.claimActiveRun(exp.id, runId, holder, slot);
};

/** The export's configuration alone (no record bookkeeping), frozen into the run. */
export const configOf = (exp: ExportRecord): ExportConfig => ({
  name: exp.name,
  connectionId: exp.connectionId,
  segmentIds: exp.segmentIds,
  dataMatching: exp.dataMatching,
  membership: exp.membership,
  onLeave: exp.onLeave,
  listTitles: exp.listTitles,
  membershipFields: exp.membershipFields,
  membershipTags: exp.membershipTags,
  adoptExistingLists: exp.adoptExistingLists,
  cap: exp.cap,
  capPolicy: exp.capPolicy,
  scheduled: exp.scheduled,
  ...(exp.removalGuardrail === undefined ? {} : { removalGuardrail: exp.removalGuardrail }),
  ...(exp.repair === undefined ? {} : { repair: exp.repair }),
});

/**
 * Whether a run reads its lists (or tags) back first: asked for, or the export repairs every run (a dry run
 * makes no requests, and a run naming its contacts is not about whole lists: neither repairs then).
 */
const repairs = (
  exp: ExportRecord,
  request: { trigger: RunTrigger; contacts?: ContactFilter; repair?: boolean },
): boolean => {
  if (request.repair === true) {
    const problem =
      exp.membership === 'field'
        ? REPAIR_NOT_IN_FIELD_MODE
        : request.trigger === 'dry-run'
          ? 'a dry run makes no requests, so it cannot read lists or tags back'
          : request.contacts !== undefined
            ? 'a re-send or retry touches only the contacts it names, never whole lists or tags'
            : undefined;
    if (problem !== undefined) throw new ValidationError([{ path: 'repair', reason: problem }]);
    return true;
  }
  return (
    exp.repair?.everyRun === true &&
    exp.membership !== 'field' &&
    request.trigger !== 'dry-run' &&
    request.contacts === undefined
  );
};
