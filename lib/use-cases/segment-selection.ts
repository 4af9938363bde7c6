import { effectiveCap } from '#lib/domain/cap.ts';
import type { DestinationAddress } from '#lib/domain/connection.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import { NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import { DEFAULT_CAP } from '#lib/domain/export-config.ts';
import type { MembershipMode } from '#lib/domain/plan.ts';
import type { Connections } from '#lib/ports/connections.ts';
import type { Destination, Destinations } from '#lib/ports/destination.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';
import { upperBoundEstimate } from './estimate.ts';

export interface SelectionDeps {
  segments: Pick<SegmentSource, 'listSegments'>;
  connections: Pick<Connections, 'get'>;
  /** What each destination charges: with it, a selection is also priced in each membership mode. */
  destinations?: Destinations;
}

/** The most a first run of the selection could cost in one membership mode (every profile new). */
export interface ModeEstimate {
  requests: number;
  seconds: number;
  upperBound: true;
}

export type SelectionVerdict = 'within_cap' | 'may_exceed_cap' | 'exceeds_cap';

export interface SelectionCheck {
  segmentIds: string[];
  cap: number;
  profilesInLargest: number;
  profilesInAll: number;
  verdict: SelectionVerdict;
  message: string;
  /** One per membership mode the connection's destination has (Autopilot: list, field; Ortto: tag). */
  estimates?: Partial<Record<MembershipMode, ModeEstimate>>;
}

/**
 * Each membership mode priced as a run would first price it (start-run.ts): every profile new, at
 * the connection's rate budget and bulk-membership probe, or the documented rate without one.
 */
const estimatesFor = (
  sizes: readonly number[],
  connection: { ratePerSecond: number; bulkMembership: { state: BulkMembership } } | undefined,
  destination: Destination,
): Partial<Record<MembershipMode, ModeEstimate>> => {
  const { costs } = destination;
  const estimate = (mode: MembershipMode): ModeEstimate => {
    const e = upperBoundEstimate(
      sizes,
      mode,
      costs,
      connection?.bulkMembership.state ?? 'unknown',
      connection?.ratePerSecond ?? costs.documentedRatePerSecond,
    );
    return { requests: e.totalRequests, seconds: e.seconds, upperBound: true };
  };
  return Object.fromEntries(destination.membershipModes.map((mode) => [mode, estimate(mode)]));
};

/** Without a connection chosen yet, a selection is priced for Autopilot, the default destination. */
const addressOf = (connection: DestinationAddress | undefined): DestinationAddress =>
  connection ?? { type: 'autopilot' };

const n = (value: number): string => value.toLocaleString('en-US');

/**
 * Every segment, and for a selection whether a run could fit the cap before anything is read:
 * one segment over the cap always fails; together over it fails unless enough profiles are shared
 * between segments or invalid, which only a run can tell. The cap is the one a run applies: the
 * lower of the export's own (the default for a new export, when none is given) and the connection's.
 */
export const checkSelection = async (
  deps: SelectionDeps,
  query: {
    segmentIds?: readonly string[] | undefined;
    connectionId?: string | undefined;
    /** The export's own cap. */
    cap?: number | undefined;
  },
): Promise<{ segments: SegmentInfo[]; selection?: SelectionCheck }> => {
  const { segmentIds: ids, connectionId } = query;
  const connection = connectionId === undefined ? undefined : await deps.connections.get(connectionId);
  if (connectionId !== undefined && connection === undefined) {
    throw new NotFoundError(`Connection ${connectionId} does not exist.`);
  }
  const segments = await deps.segments.listSegments();
  if (ids === undefined) return { segments };
  const byId = new Map(segments.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const issues = ids.flatMap((id, i) => {
    const path = `query.segmentIds.${i}`;
    if (!byId.has(id)) return [{ path, reason: `no segment "${id}"` }];
    if (seen.has(id)) return [{ path, reason: `"${id}" is given twice` }];
    seen.add(id);
    return [];
  });
  if (issues.length > 0) throw new ValidationError(issues);
  const cap = effectiveCap(query.cap ?? DEFAULT_CAP, connection?.cap ?? Number.POSITIVE_INFINITY);
  const sizes = ids.map((id) => byId.get(id)?.profiles ?? 0);
  const largest = Math.max(0, ...sizes);
  const all = sizes.reduce((a, b) => a + b, 0);
  const verdict: SelectionVerdict =
    largest > cap ? 'exceeds_cap' : all > cap ? 'may_exceed_cap' : 'within_cap';
  const message =
    verdict === 'exceeds_cap'
      ? `A selected segment alone has more than ${n(cap)} profiles: a run would fail on the cap.`
      : verdict === 'may_exceed_cap'
        ? `Together the segments hold ${n(all)} profiles; if fewer than ${n(all - cap)} are shared or invalid, a run will fail on the cap of ${n(cap)}.`
        : `At most ${n(all)} contacts: within the cap of ${n(cap)}.`;
  return {
    segments,
    selection: {
      ...(deps.destinations === undefined
        ? {}
        : { estimates: estimatesFor(sizes, connection, deps.destinations.for(addressOf(connection))) }),
      segmentIds: [...ids],
      cap,
      profilesInLargest: largest,
      profilesInAll: all,
      verdict,
      message,
    },
  };
};
