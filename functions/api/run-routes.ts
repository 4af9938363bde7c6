import * as z from 'zod';
import { problem } from '#functions/shared/http/problems.ts';
import { flag, json, param, problems, query } from '#functions/shared/http/route-helpers.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { AuditDeps } from '#lib/use-cases/audit.ts';
import {
  getExportOrThrow,
  governingConnections,
  type RunPermissions,
  runPermissionsFor,
} from '#lib/use-cases/export-access.ts';
import { cancelRun, getRunOrThrow, requestRun, runGoverningConnections } from '#lib/use-cases/manage-runs.ts';
import { decideHeldRemovals } from '#lib/use-cases/removal-approval.ts';
import type { StartRunDeps } from '#lib/use-cases/start-run.ts';
import type { ApiDeps } from './deps.ts';
import { resendRoutes } from './resend-routes.ts';
import type { Route, RouteContext } from './route.ts';
import { RunViewSchema, runView } from './run-view.ts';

const startDeps = (deps: ApiDeps): StartRunDeps & AuditDeps => ({
  ...deps,
  ...deps.state,
  destinations: deps.destinations,
  newId: () => deps.newId('run'),
});

/** What the caller may do to one run, decided as cancelRun decides it. */
const permissionsOn = async (ctx: RouteContext, run: RunRecord): Promise<RunPermissions> =>
  runPermissionsFor(ctx.caller, await runGoverningConnections(ctx.deps.state, run));

/** `POST /runs/{id}/approve` and `/reject`: an admin's decision on removals the guardrail held. */
const decisionRoute = (outcome: 'approved' | 'rejected'): Route => {
  const verb = outcome === 'approved' ? 'approve' : 'reject';
  return {
    method: 'POST',
    path: `/runs/{id}/${verb}`,
    operationId: `${verb}Run`,
    summary:
      outcome === 'approved'
        ? 'Approve the removals the removal guardrail held: they are sent, nothing is planned again'
        : 'Reject the removals the removal guardrail held: they are not sent (counted as dropped), the run completes',
    action: 'run:approve',
    responses: [
      { status: 202, description: 'Decided: the run continues', schema: RunViewSchema },
      ...problems(401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const deps = { ...ctx.deps, ...ctx.deps.state };
      const run = await decideHeldRemovals(deps, param(ctx, 'id'), outcome, ctx.caller);
      return json(202, runView(run, [], ctx.deps.clock.now(), await permissionsOn(ctx, run)));
    },
  };
};

export const RunStartedSchema = z.object({
  runId: z.string(),
  status: z.string(),
  estimate: z.unknown(),
  links: z.object({ run: z.string() }),
});

/** What `POST /exports/{id}/runs` may carry instead of (or as well as) `?dryRun=`. */
export const RunRequestSchema = z
  .object({
    dryRun: z.boolean().optional().meta({ description: 'Plan and report only; sends nothing' }),
    repair: z
      .boolean()
      .optional()
      .meta({
        description:
          'Read the lists (tag mode: every segment tag) back and repair drift before planning; list and ' +
          'tag mode only, since membership fields cannot be read back (400 naming `repair` in field mode)',
      }),
  })
  .strict();

/** A runs cursor as the store returns it: base64url of `<createdAt>#<runId>`, the run index's sort key. */
const CURSOR_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z#[\x21-\x7e]{1,256}$/;
const isRunsCursor = (cursor: string): boolean => {
  if (cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return false;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  // Decoding is lenient; only the canonical encoding of a well-formed key is one we handed out.
  return Buffer.from(key, 'utf8').toString('base64url') === cursor && CURSOR_KEY.test(key);
};

const ListRunsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .refine(isRunsCursor, 'is not a cursor this API returned; send the `next` of the previous page')
    .optional(),
});

/** `POST /exports/{id}/runs`: answers 202 once the run is recorded and its planning queued. */
export const runStartRoute: Route = {
  method: 'POST',
  path: '/exports/{id}/runs',
  operationId: 'startRun',
  summary:
    'Run an export now (202 at once, planning continues); a dry run (dryRun=true in the query or ' +
    '{"dryRun": true} in the body) reports what would be sent and sends nothing',
  action: 'run:start',
  query: [{ name: 'dryRun', description: 'Plan and report only', schema: flag }],
  body: RunRequestSchema.optional(),
  responses: [
    { status: 202, description: 'Started: the run id and an upper-bound estimate', schema: RunStartedSchema },
    ...problems(400, 401, 403, 404, 409),
  ],
  handle: async (ctx) => {
    const inQuery = query(z.object({ dryRun: flag.optional() }), ctx).dryRun;
    const body = ctx.body === undefined ? undefined : parseOrThrow(RunRequestSchema, ctx.body);
    const inBody = body?.dryRun;
    if (inQuery !== undefined && inBody !== undefined && inQuery !== inBody) {
      throw new ValidationError([
        { path: 'dryRun', reason: `is ${inBody} but query.dryRun is ${inQuery}; send one of them` },
        {
          path: 'query.dryRun',
          reason: `is ${inQuery} but the body's dryRun is ${inBody}; send one of them`,
        },
      ]);
    }
    const dryRun = inBody ?? inQuery ?? false;
    const repair = body?.repair === true;
    const result = await requestRun(startDeps(ctx.deps), param(ctx, 'id'), { dryRun, repair }, ctx.caller);
    const links = { run: `/runs/${result.run.id}` };
    if (!result.started) {
      const detail = result.run.reason ?? 'Another run of this export is in progress.';
      return problem(409, detail, { runId: result.run.id, links });
    }
    return json(202, {
      runId: result.run.id,
      status: result.run.status,
      estimate: result.run.estimate,
      links,
    });
  },
};

export const runRoutes: Route[] = [
  runStartRoute,
  {
    method: 'GET',
    path: '/exports/{id}/runs',
    operationId: 'listRuns',
    summary: 'Run history of an export, newest first',
    action: 'run:read',
    query: [
      { name: 'limit', description: '1–100 (default 20)', schema: z.coerce.number() },
      { name: 'cursor', description: 'From the previous page’s `next`', schema: z.string() },
    ],
    responses: [
      {
        status: 200,
        description: 'Runs',
        schema: z.object({ runs: z.array(RunViewSchema), next: z.string().optional() }),
      },
      ...problems(400, 401, 403, 404),
    ],
    handle: async (ctx) => {
      const { limit, cursor } = query(ListRunsQuerySchema, ctx);
      const exp = await getExportOrThrow(ctx.deps.state.exports, param(ctx, 'id'));
      // Every run of one export is governed by that export's connection: one decision for the page.
      const permissions = runPermissionsFor(
        ctx.caller,
        await governingConnections(ctx.deps.state.connections, exp),
      );
      const page = await ctx.deps.state.runs.list(param(ctx, 'id'), limit, cursor);
      const now = ctx.deps.clock.now();
      return json(200, {
        runs: page.runs.map((r) => runView(r, [], now, permissions)),
        ...(page.next ? { next: page.next } : {}),
      });
    },
  },
  {
    method: 'GET',
    path: '/runs/{id}',
    operationId: 'getRun',
    summary: 'One run: status, counts by outcome and reason, progress, ETA, masked error samples',
    action: 'run:read',
    responses: [{ status: 200, description: 'The run', schema: RunViewSchema }, ...problems(401, 403, 404)],
    handle: async (ctx) => {
      const run = await getRunOrThrow(ctx.deps.state, param(ctx, 'id'));
      const samples = await ctx.deps.state.batches.errorSamples(run.id, 20);
      return json(200, runView(run, samples, ctx.deps.clock.now(), await permissionsOn(ctx, run)));
    },
  },
  {
    method: 'POST',
    path: '/runs/{id}/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run in progress',
    action: 'run:cancel',
    responses: [
      { status: 202, description: 'Cancelled', schema: RunViewSchema },
      ...problems(401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const run = await cancelRun({ ...ctx.deps, ...ctx.deps.state }, param(ctx, 'id'), ctx.caller);
      return json(202, runView(run, [], ctx.deps.clock.now(), await permissionsOn(ctx, run)));
    },
  },
  decisionRoute('approved'),
  decisionRoute('rejected'),
  ...resendRoutes,
];
