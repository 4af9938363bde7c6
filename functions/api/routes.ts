import * as z from 'zod';
import { authorize } from '#lib/domain/access.ts';
import { effectiveCap } from '#lib/domain/cap.ts';
import { NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import { DEFAULT_CAP, ExportConfigSchema } from '#lib/domain/export-config.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { Connection } from '#lib/ports/state-store.ts';
import {
  type ConnectionRemovalDeps,
  CreateConnectionInputSchema,
  createConnection,
  deleteConnection,
  RotateKeyInputSchema,
  rotateKey,
  UpdateConnectionInputSchema,
  updateConnection,
} from '#lib/use-cases/manage-connections.ts';
import {
  createExport,
  deleteExport,
  duplicateExport,
  type ExportDeps,
  getExportOrThrow,
  governingConnections,
  permissionsFor,
  setSchedule,
  UpdateExportInputSchema,
  updateExport,
} from '#lib/use-cases/manage-exports.ts';
import { cancelRun, getRunOrThrow, requestRun } from '#lib/use-cases/manage-runs.ts';
import type { StartRunDeps } from '#lib/use-cases/start-run.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiResponse } from './http.ts';
import type { Route, RouteContext } from './router.ts';
import {
  ConnectionAnyViewSchema,
  ConnectionViewSchema,
  connectionView,
  ExportViewSchema,
  exportView,
  ProblemSchema,
  RunViewSchema,
  runView,
  SegmentViewSchema,
  SelectionCheckSchema,
} from './views.ts';

const json = (status: number, body: unknown): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body,
});

const query = <S extends z.ZodType>(schema: S, ctx: RouteContext): z.output<S> =>
  parseOrThrow(schema, ctx.query, 'query');

const param = (ctx: RouteContext, name: string): string => ctx.params[name] ?? '';

const connectionDeps = (deps: ApiDeps): ConnectionRemovalDeps => ({
  ...deps,
  newId: () => deps.newId('conn'),
});
const exportDeps = (deps: ApiDeps): ExportDeps => ({ ...deps, newId: () => deps.newId('exp') });
export const startDeps = (deps: ApiDeps): StartRunDeps => ({
  ...deps,
  costs: deps.destination.costs,
  newId: () => deps.newId('run'),
});

const connectionsById = async (deps: ApiDeps): Promise<Map<string, Connection>> =>
  new Map((await deps.store.listConnections()).map((c) => [c.id, c]));

const viewExport = async (ctx: RouteContext, id: string) => {
  const exp = await getExportOrThrow(ctx.deps.store, id);
  const connections = await governingConnections(ctx.deps.store, exp);
  return exportView(exp, connections[0], permissionsFor(ctx.caller, connections));
};

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const ListRunsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
});
const SegmentsQuerySchema = z.object({
  /** Comma-separated segment ids whose combined size to check against the cap. */
  segmentIds: z.string().min(1).optional(),
  connectionId: z.string().min(1).optional(),
});

const problems = (...statuses: number[]) =>
  statuses.map((status) => ({
    status,
    description: PROBLEM_TEXT[status] ?? 'Problem',
    schema: ProblemSchema,
  }));
const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid request: `errors` names each field and why',
  401: 'No identity token',
  403: 'The caller’s role does not allow this',
  404: 'No such resource',
  409: 'Conflicts with the current state (stale version, in use, already running or ended)',
  413: 'Request body too large',
  415: 'Request body is not JSON',
  503: 'Autopilot could not be reached',
};

const ExportListSchema = z.object({ exports: z.array(ExportViewSchema) });
const RunStartedSchema = z.object({
  runId: z.string(),
  status: z.string(),
  estimate: z.unknown(),
  links: z.object({ run: z.string() }),
});

/** Schemas the OpenAPI document names (and writes once) instead of repeating inline. */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Problem: ProblemSchema,
  Connection: ConnectionViewSchema,
  ConnectionSummary: ConnectionAnyViewSchema,
  CreateConnection: CreateConnectionInputSchema,
  UpdateConnection: UpdateConnectionInputSchema,
  RotateKey: RotateKeyInputSchema,
  ExportConfig: ExportConfigSchema,
  UpdateExport: UpdateExportInputSchema,
  Export: ExportViewSchema,
  ExportList: ExportListSchema,
  Run: RunViewSchema,
  RunStarted: RunStartedSchema,
};

export const routes = (openApi: () => unknown): Route[] => [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This API’s OpenAPI 3.1 description',
    access: 'public',
    public: true,
    responses: [{ status: 200, description: 'The document' }],
    handle: async () => json(200, openApi()),
  },
  {
    method: 'GET',
    path: '/connections',
    operationId: 'listConnections',
    summary: 'List connections (admins see details; others see name and type)',
    access: 'any role',
    responses: [
      {
        status: 200,
        description: 'Connections',
        schema: z.object({ connections: z.array(ConnectionAnyViewSchema) }),
      },
      ...problems(401, 403),
    ],
    handle: async ({ deps, caller }) => {
      authorize(caller, 'connection:read');
      const connections = await deps.store.listConnections();
      return json(200, { connections: connections.map((c) => connectionView(caller, c)) });
    },
  },
  {
    method: 'POST',
    path: '/connections',
    operationId: 'createConnection',
    summary: 'Create a connection: verifies the API key with Autopilot and records the privacy consent',
    access: 'admins',
    body: CreateConnectionInputSchema,
    responses: [
      { status: 201, description: 'Created (the key is never returned)', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 413, 415, 503),
    ],
    handle: async ({ deps, caller, body }) =>
      json(201, await createConnection(connectionDeps(deps), body, caller)),
  },
  {
    method: 'GET',
    path: '/connections/{id}',
    operationId: 'getConnection',
    summary: 'One connection',
    access: 'any role',
    responses: [
      { status: 200, description: 'The connection', schema: ConnectionAnyViewSchema },
      ...problems(401, 403, 404),
    ],
    handle: async ({ deps, caller, params }) => {
      authorize(caller, 'connection:read');
      const c = await deps.store.getConnection(params.id ?? '');
      if (c === undefined) throw new NotFoundError(`Connection ${params.id} does not exist.`);
      return json(200, connectionView(caller, c));
    },
  },
  {
    method: 'PATCH',
    path: '/connections/{id}',
    operationId: 'updateConnection',
    summary: 'Rename, change sharing, cap or rate budget (send the version you read)',
    access: 'admins',
    body: UpdateConnectionInputSchema,
    responses: [
      { status: 200, description: 'Updated', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) =>
      json(200, await updateConnection(connectionDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller)),
  },
  {
    method: 'POST',
    path: '/connections/{id}/rotate-key',
    operationId: 'rotateConnectionKey',
    summary: 'Replace the API key (verified with Autopilot first)',
    access: 'admins',
    body: RotateKeyInputSchema,
    responses: [
      { status: 200, description: 'Rotated', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 404, 409, 503),
    ],
    handle: async (ctx) =>
      json(200, await rotateKey(connectionDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller)),
  },
  {
    method: 'DELETE',
    path: '/connections/{id}',
    operationId: 'deleteConnection',
    summary: 'Remove a connection; refused while exports use it unless detach=true',
    access: 'admins',
    query: [{ name: 'detach', description: 'Detach the exports that use it', schema: flag }],
    responses: [
      {
        status: 200,
        description: 'Removed; lists detached exports and cancelled runs',
        schema: z.object({ detached: z.array(z.string()), cancelledRuns: z.array(z.string()) }),
      },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const { detach } = query(z.object({ detach: flag.default(false) }), ctx);
      return json(
        200,
        await deleteConnection(connectionDeps(ctx.deps), param(ctx, 'id'), { detach }, ctx.caller),
      );
    },
  },
  {
    method: 'GET',
    path: '/exports',
    operationId: 'listExports',
    summary: 'List exports with connection, status, last run, schedule and what the caller may do',
    access: 'any role',
    responses: [{ status: 200, description: 'Exports', schema: ExportListSchema }, ...problems(401, 403)],
    handle: async ({ deps, caller }) => {
      authorize(caller, 'export:read');
      const connections = await connectionsById(deps);
      const exports = await deps.store.listExports();
      return json(200, {
        exports: exports
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((e) => {
            const c = e.connectionId === null ? undefined : connections.get(e.connectionId);
            return exportView(e, c, permissionsFor(caller, c ? [c] : []));
          }),
      });
    },
  },
  {
    method: 'POST',
    path: '/exports',
    operationId: 'createExport',
    summary: 'Create an export (saving never runs it)',
    access: 'admins; contributors on connections shared with contributors',
    body: ExportConfigSchema,
    responses: [
      { status: 201, description: 'Created', schema: ExportViewSchema },
      ...problems(400, 401, 403, 413, 415),
    ],
    handle: async (ctx) => {
      const created = await createExport(exportDeps(ctx.deps), ctx.body, ctx.caller);
      return json(201, await viewExport(ctx, created.id));
    },
  },
  {
    method: 'GET',
    path: '/exports/{id}',
    operationId: 'getExport',
    summary: 'One export',
    access: 'any role',
    responses: [
      { status: 200, description: 'The export', schema: ExportViewSchema },
      ...problems(401, 403, 404),
    ],
    handle: async (ctx) => {
      authorize(ctx.caller, 'export:read');
      return json(200, await viewExport(ctx, param(ctx, 'id')));
    },
  },
  {
    method: 'PUT',
    path: '/exports/{id}',
    operationId: 'updateExport',
    summary: 'Replace an export’s configuration (send the version you read)',
    access: 'admins; contributors on connections shared with contributors',
    body: UpdateExportInputSchema,
    responses: [
      { status: 200, description: 'Updated', schema: ExportViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      await updateExport(exportDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller);
      return json(200, await viewExport(ctx, param(ctx, 'id')));
    },
  },
  {
    method: 'DELETE',
    path: '/exports/{id}',
    operationId: 'deleteExport',
    summary: 'Delete an export and what it remembers of sent contacts (refused while a run is active)',
    access: 'admins; contributors on connections shared with contributors',
    responses: [{ status: 204, description: 'Deleted' }, ...problems(401, 403, 404, 409)],
    handle: async (ctx) => {
      await deleteExport(exportDeps(ctx.deps), param(ctx, 'id'), ctx.caller);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/exports/{id}/duplicate',
    operationId: 'duplicateExport',
    summary: 'Copy an export (unscheduled, no history)',
    access: 'admins; contributors on connections shared with contributors',
    responses: [
      { status: 201, description: 'The copy', schema: ExportViewSchema },
      ...problems(401, 403, 404),
    ],
    handle: async (ctx) => {
      const copy = await duplicateExport(exportDeps(ctx.deps), param(ctx, 'id'), ctx.caller);
      return json(201, await viewExport(ctx, copy.id));
    },
  },
  {
    method: 'PUT',
    path: '/exports/{id}/schedule',
    operationId: 'setExportSchedule',
    summary: 'Turn the scheduled refresh on or off',
    access: 'admins; contributors on connections shared with contributors',
    body: z.object({ scheduled: z.boolean() }),
    responses: [
      { status: 200, description: 'Updated', schema: ExportViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      await setSchedule(exportDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller);
      return json(200, await viewExport(ctx, param(ctx, 'id')));
    },
  },
  runStartRoute,
  {
    method: 'GET',
    path: '/exports/{id}/runs',
    operationId: 'listRuns',
    summary: 'Run history of an export, newest first',
    access: 'any role',
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
      authorize(ctx.caller, 'run:read');
      const { limit, cursor } = query(ListRunsQuerySchema, ctx);
      await getExportOrThrow(ctx.deps.store, param(ctx, 'id'));
      const page = await ctx.deps.store.listRuns(param(ctx, 'id'), limit, cursor);
      const now = ctx.deps.clock.now();
      return json(200, {
        runs: page.runs.map((r) => runView(r, [], now)),
        ...(page.next ? { next: page.next } : {}),
      });
    },
  },
  {
    method: 'GET',
    path: '/runs/{id}',
    operationId: 'getRun',
    summary: 'One run: status, counts by outcome and reason, progress, ETA, masked error samples',
    access: 'any role',
    responses: [{ status: 200, description: 'The run', schema: RunViewSchema }, ...problems(401, 403, 404)],
    handle: async (ctx) => {
      authorize(ctx.caller, 'run:read');
      const run = await getRunOrThrow(ctx.deps, param(ctx, 'id'));
      const samples = await ctx.deps.store.listErrorSamples(run.id, 20);
      return json(200, runView(run, samples, ctx.deps.clock.now()));
    },
  },
  {
    method: 'POST',
    path: '/runs/{id}/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run in progress',
    access: 'admins; contributors on connections shared with contributors',
    responses: [
      { status: 202, description: 'Cancelled', schema: RunViewSchema },
      ...problems(401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const run = await cancelRun(ctx.deps, param(ctx, 'id'), ctx.caller);
      return json(202, runView(run, [], ctx.deps.clock.now()));
    },
  },
  {
    method: 'GET',
    path: '/segments',
    operationId: 'listSegments',
    summary: 'Segments with profile counts; with segmentIds, whether that selection fits the cap',
    access: 'any role',
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
      ...problems(400, 401, 403),
    ],
    handle: async (ctx) => {
      authorize(ctx.caller, 'segment:read');
      const { segmentIds, connectionId } = query(SegmentsQuerySchema, ctx);
      const segments = await ctx.deps.segments.listSegments();
      if (segmentIds === undefined) return json(200, { segments });
      const ids = segmentIds
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const byId = new Map(segments.map((s) => [s.id, s]));
      const missing = ids.flatMap((id, i) =>
        byId.has(id) ? [] : [{ path: `query.segmentIds.${i}`, reason: `no segment "${id}"` }],
      );
      if (missing.length > 0) throw new ValidationError(missing);
      const connection = connectionId ? await ctx.deps.store.getConnection(connectionId) : undefined;
      const cap = effectiveCap(DEFAULT_CAP, connection?.cap ?? DEFAULT_CAP);
      const sizes = ids.map((id) => byId.get(id)?.profiles ?? 0);
      const largest = Math.max(0, ...sizes);
      const all = sizes.reduce((a, b) => a + b, 0);
      const verdict = largest > cap ? 'exceeds_cap' : all > cap ? 'may_exceed_cap' : 'within_cap';
      const message =
        verdict === 'exceeds_cap'
          ? `A selected segment alone has more than ${cap.toLocaleString('en-US')} profiles: a run would fail on the cap.`
          : verdict === 'may_exceed_cap'
            ? `Together the segments hold ${all.toLocaleString('en-US')} profiles; if fewer than ${(all - cap).toLocaleString('en-US')} are shared or invalid, a run will fail on the cap of ${cap.toLocaleString('en-US')}.`
            : `At most ${all.toLocaleString('en-US')} contacts: within the cap of ${cap.toLocaleString('en-US')}.`;
      return json(200, {
        segments,
        selection: { segmentIds: ids, cap, profilesInLargest: largest, profilesInAll: all, verdict, message },
      });
    },
  },
];

/** `POST /exports/{id}/runs`: in AWS this route is served by the planner function. */
export const runStartRoute: Route = {
  method: 'POST',
  path: '/exports/{id}/runs',
  operationId: 'startRun',
  summary:
    'Run an export now (202 at once, planning continues); dryRun=true reports what would be sent and sends nothing',
  access: 'admins; contributors on connections shared with contributors',
  query: [{ name: 'dryRun', description: 'Plan and report only', schema: flag }],
  responses: [
    { status: 202, description: 'Started: the run id and an upper-bound estimate', schema: RunStartedSchema },
    ...problems(400, 401, 403, 404, 409),
  ],
  handle: async (ctx) => {
    const { dryRun } = query(z.object({ dryRun: flag.default(false) }), ctx);
    const result = await requestRun(startDeps(ctx.deps), param(ctx, 'id'), { dryRun }, ctx.caller);
    const links = { run: `/runs/${result.run.id}` };
    if (!result.started) {
      return {
        status: 409,
        headers: { 'content-type': 'application/problem+json' },
        body: {
          type: 'about:blank',
          title: 'Conflict',
          status: 409,
          detail: result.run.reason ?? 'Another run of this export is in progress.',
          runId: result.run.id,
          links,
        },
      };
    }
    return json(202, {
      runId: result.run.id,
      status: result.run.status,
      estimate: result.run.estimate,
      links,
    });
  },
};
