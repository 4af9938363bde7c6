import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { json, param, problems } from '#functions/shared/http/route-helpers.ts';
import type { Connection } from '#lib/domain/connection.ts';
import { deleteExport } from '#lib/use-cases/delete-export.ts';
import { duplicateExport } from '#lib/use-cases/duplicate-export.ts';
import { getExportOrThrow, governingConnections, permissionsFor } from '#lib/use-cases/export-access.ts';
import { ExportInputSchema, UpdateExportInputSchema } from '#lib/use-cases/export-checks.ts';
import { createExport, type ExportDeps, setSchedule, updateExport } from '#lib/use-cases/manage-exports.ts';
import type { ApiDeps } from './deps.ts';
import { matchingWarnings } from './export-warnings.ts';
import type { Route, RouteContext } from './route.ts';
import { ExportViewSchema, exportView, SavedExportViewSchema } from './views.ts';

const exportDeps = (deps: ApiDeps): ExportDeps => ({
  ...deps,
  ...deps.state,
  newId: () => deps.newId('exp'),
  webhooks: {
    secrets: deps.secrets,
    newSecret: () => `whsec_${randomBytes(32).toString('hex')}`,
    allowLoopbackHttp: deps.webhookAllowLoopback === true,
  },
});

/** The secret a save just made, shown this once. */
const secretOf = (saved: { webhookSecret?: string }) =>
  saved.webhookSecret === undefined ? {} : { webhookSecret: saved.webhookSecret };

const connectionsById = async (deps: ApiDeps): Promise<Map<string, Connection>> =>
  new Map((await deps.state.connections.list()).map((c) => [c.id, c]));

const viewExport = async (ctx: RouteContext, id: string) => {
  const exp = await getExportOrThrow(ctx.deps.state.exports, id);
  const connections = await governingConnections(ctx.deps.state.connections, exp);
  return exportView(exp, connections[0], permissionsFor(ctx.caller, connections));
};

/** A saved export as the editor gets it back, with what the save noticed but did not refuse. */
const viewSaved = async (ctx: RouteContext, id: string) => {
  const view = await viewExport(ctx, id);
  return { ...view, warnings: await matchingWarnings(ctx.deps.segments, view) };
};

export const ExportListSchema = z.object({ exports: z.array(ExportViewSchema) });

export const exportRoutes: Route[] = [
  {
    method: 'GET',
    path: '/exports',
    operationId: 'listExports',
    summary: 'List exports with connection, status, last run, schedule and what the caller may do',
    action: 'export:read',
    responses: [{ status: 200, description: 'Exports', schema: ExportListSchema }, ...problems(401, 403)],
    handle: async ({ deps, caller }) => {
      const connections = await connectionsById(deps);
      const exports = await deps.state.exports.list();
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
    summary:
      'Create an export (saving never runs it); `warnings` names mapped attributes the selected segments ' +
      'do not seem to carry',
    action: 'export:write',
    body: ExportInputSchema,
    responses: [
      { status: 201, description: 'Created', schema: SavedExportViewSchema },
      ...problems(400, 401, 403, 409, 413, 415),
    ],
    handle: async (ctx) => {
      const created = await createExport(exportDeps(ctx.deps), ctx.body, ctx.caller);
      return json(201, { ...(await viewSaved(ctx, created.id)), ...secretOf(created) });
    },
  },
  {
    method: 'GET',
    path: '/exports/{id}',
    operationId: 'getExport',
    summary: 'One export',
    action: 'export:read',
    responses: [
      { status: 200, description: 'The export', schema: ExportViewSchema },
      ...problems(400, 401, 403, 404),
    ],
    handle: async (ctx) => json(200, await viewExport(ctx, param(ctx, 'id'))),
  },
  {
    method: 'PUT',
    path: '/exports/{id}',
    operationId: 'updateExport',
    summary:
      'Replace an export’s configuration: send the whole document (every field, as GET returns it; only ' +
      'dataMatching.updatedAt may be left out, meaning none) with the version you read',
    action: 'export:write',
    body: UpdateExportInputSchema,
    replaces: true,
    responses: [
      { status: 200, description: 'Updated', schema: SavedExportViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const saved = await updateExport(exportDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller);
      return json(200, { ...(await viewSaved(ctx, param(ctx, 'id'))), ...secretOf(saved) });
    },
  },
  {
    method: 'DELETE',
    path: '/exports/{id}',
    operationId: 'deleteExport',
    summary: 'Delete an export and what it remembers of sent contacts (refused while a run is active)',
    action: 'export:write',
    responses: [{ status: 204, description: 'Deleted' }, ...problems(400, 401, 403, 404, 409)],
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
    action: 'export:write',
    responses: [
      { status: 201, description: 'The copy', schema: ExportViewSchema },
      ...problems(400, 401, 403, 404),
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
    action: 'export:write',
    body: z.object({ scheduled: z.boolean() }).strict(),
    responses: [
      { status: 200, description: 'Updated', schema: ExportViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      await setSchedule(exportDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller);
      return json(200, await viewExport(ctx, param(ctx, 'id')));
    },
  },
];
