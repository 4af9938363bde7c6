import * as z from 'zod';
import { json, problems, query } from '#functions/shared/http/route-helpers.ts';
import { idText } from '#lib/domain/validation.ts';
import { checkSelection } from '#lib/use-cases/segment-selection.ts';
import type { Route } from './route.ts';
import { SegmentViewSchema, SelectionCheckSchema } from './views.ts';

const SegmentsQuerySchema = z.object({
  /** Comma-separated segment ids whose combined size to check against the cap. */
  segmentIds: z.string().min(1).max(10_000).optional(),
  connectionId: idText().optional(),
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
    const ids = segmentIds
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const result = await checkSelection(
      { segments: ctx.deps.segments, connections: ctx.deps.state.connections },
      { segmentIds: ids, connectionId },
    );
    return json(200, result);
  },
};
