import * as z from 'zod';
import { json, problems, query } from '#functions/shared/http/route-helpers.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { idText } from '#lib/domain/validation.ts';
import { checkSelection } from '#lib/use-cases/segment-selection.ts';
import type { Route } from './route.ts';
import { SegmentViewSchema, SelectionCheckSchema } from './views.ts';

const ModeEstimateSchema = z.object({
  requests: z.number(),
  seconds: z.number(),
  upperBound: z.literal(true),
});

/** The verdict, and each membership mode priced as a first run would be (every profile new). */
const PricedSelectionSchema = SelectionCheckSchema.extend({
  estimates: z
    .object({
      list: ModeEstimateSchema.optional(),
      field: ModeEstimateSchema.optional(),
      tag: ModeEstimateSchema.optional(),
    })
    .optional()
    .meta({
      description:
        'Upper-bound requests and seconds at the connection’s rate budget (the documented rate without ' +
        'a connection), one per membership mode the connection’s destination has: a list and a field ' +
        'per segment on Autopilot (also without a connection), a tag per segment on Ortto',
    }),
});

/** `query.cap` stands for an export's own cap, so it has the same bounds. */
const MAX_CAP: number = (() => {
  const max = ExportConfigSchema.shape.cap.unwrap().maxValue;
  if (max === null) throw new Error('An export’s cap has no maximum; query.cap needs one to stay bounded.');
  return max;
})();
const CAP_DIGITS = String(MAX_CAP).length;
const CAP_REASON = `must be a whole number from 1 to ${MAX_CAP.toLocaleString('en-US')}, as an export's cap`;

const SegmentsQuerySchema = z.object({
  /** Comma-separated segment ids whose combined size to check against the cap. */
  segmentIds: z.string().min(1).max(10_000).optional(),
  connectionId: idText().optional(),
  cap: z
    .string()
    .transform((text, ctx) => {
      // The length is checked before the pattern, so no pattern ever runs on a long value.
      const ok = text.length <= CAP_DIGITS && /^[1-9]\d*$/.test(text) && Number(text) <= MAX_CAP;
      if (ok) return Number(text);
      ctx.issues.push({ code: 'custom', message: CAP_REASON, input: text });
      return z.NEVER;
    })
    .optional(),
});

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
    {
      name: 'cap',
      description:
        'The export’s own cap (1–10,000,000; default 100,000): the check uses the lower of it and the ' +
        'connection’s, as a run does',
      schema: z.coerce.number(),
    },
  ],
  responses: [
    {
      status: 200,
      description: 'Segments',
      schema: z.object({
        segments: z.array(SegmentViewSchema),
        selection: PricedSelectionSchema.optional(),
      }),
    },
    ...problems(400, 401, 403, 404),
  ],
  handle: async (ctx) => {
    const { segmentIds, connectionId, cap } = query(SegmentsQuerySchema, ctx);
    const ids = segmentIds
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const result = await checkSelection(
      {
        segments: ctx.deps.segments,
        connections: ctx.deps.state.connections,
        destinations: ctx.deps.destinations,
      },
      { segmentIds: ids, connectionId, cap },
    );
    return json(200, result);
  },
};
