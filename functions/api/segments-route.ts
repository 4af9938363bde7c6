import * as z from 'zod';
import { json, problems, query } from '#functions/shared/http/route-helpers.ts';
import { effectiveCap } from '#lib/domain/cap.ts';
import { NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import { DEFAULT_CAP } from '#lib/domain/export-config.ts';
import { idText } from '#lib/domain/validation.ts';
import type { Route } from './route.ts';
import { SegmentViewSchema, SelectionCheckSchema } from './views.ts';

const SegmentsQuerySchema = z.object({
  /** Comma-separated segment ids whose combined size to check against the cap. */
  segmentIds: z.string().min(1).max(10_000).optional(),
  connectionId: idText().optional(),
});

const n = (value: number): string => value.toLocaleString('en-US');

/** `GET /segments`, with an optional check of a selection against a connection's cap. */
export const segmentsRoute: Route = {
  method: 'GET',
  path: '/segments',
  operationId: 'listSegments',
  summary: 'Segments with profile counts; with segmentIds, whether that selection fits the cap',
  action: 'segment:read',
  query: [
    { name: 'segmentIds', description: 'Comma-separated ids of a selection to check', schema: z.string() },
    { name: 'connectionId', description: 'Check against this connection’s cap', schema: z.string() },
  ],
  responses: [
    {
      status: 200,
      description: 'Segments',
      schema: z.object({
        segments: z.array(SegmentViewSchema),
        selection: SelectionCheckSchema.optional(),
      }),
    },
    ...problems(400, 401, 403, 404),
  ],
  handle: async (ctx) => {
    const { segmentIds, connectionId } = query(SegmentsQuerySchema, ctx);
    const connection =
      connectionId === undefined ? undefined : await ctx.deps.state.connections.get(connectionId);
    if (connectionId !== undefined && connection === undefined) {
      throw new NotFoundError(`Connection ${connectionId} does not exist.`);
    }
    const segments = await ctx.deps.segments.listSegments();
    if (segmentIds === undefined) return json(200, { segments });
    const ids = segmentIds
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
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
    const cap = effectiveCap(DEFAULT_CAP, connection?.cap ?? DEFAULT_CAP);
    const sizes = ids.map((id) => byId.get(id)?.profiles ?? 0);
    const largest = Math.max(0, ...sizes);
    const all = sizes.reduce((a, b) => a + b, 0);
    const verdict = largest > cap ? 'exceeds_cap' : all > cap ? 'may_exceed_cap' : 'within_cap';
    const message =
      verdict === 'exceeds_cap'
        ? `A selected segment alone has more than ${n(cap)} profiles: a run would fail on the cap.`
        : verdict === 'may_exceed_cap'
          ? `Together the segments hold ${n(all)} profiles; if fewer than ${n(all - cap)} are shared or invalid, a run will fail on the cap of ${n(cap)}.`
          : `At most ${n(all)} contacts: within the cap of ${n(cap)}.`;
    return json(200, {
      segments,
      selection: { segmentIds: ids, cap, profilesInLargest: largest, profilesInAll: all, verdict, message },
    });
  },
};
