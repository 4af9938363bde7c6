import type * as z from 'zod';
import { ProblemSchema } from '#functions/shared/http/problems.ts';
import { json } from '#functions/shared/http/route-helpers.ts';
import {
  CreateConnectionInputSchema,
  RotateKeyInputSchema,
  UpdateConnectionInputSchema,
} from '#lib/use-cases/connection-inputs.ts';
import { ExportInputSchema, UpdateExportInputSchema } from '#lib/use-cases/export-checks.ts';
import { AuditPageSchema, auditRoute } from './audit-route.ts';
import { connectionRoutes } from './connection-routes.ts';
import { ExportListSchema, exportRoutes } from './export-routes.ts';
import { MeSchema, meRoute } from './me-route.ts';
import type { Route } from './route.ts';
import { RunStartedSchema, runRoutes } from './run-routes.ts';
import { RunViewSchema } from './run-view.ts';
import { segmentsRoute } from './segments-route.ts';
import {
  ConnectionAnyViewSchema,
  ConnectionViewSchema,
  ExportViewSchema,
  SavedExportViewSchema,
} from './views.ts';

/** Schemas the OpenAPI document names (and writes once) instead of repeating inline. */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Problem: ProblemSchema,
  Connection: ConnectionViewSchema,
  ConnectionSummary: ConnectionAnyViewSchema,
  CreateConnection: CreateConnectionInputSchema,
  UpdateConnection: UpdateConnectionInputSchema,
  RotateKey: RotateKeyInputSchema,
  ExportConfig: ExportInputSchema,
  UpdateExport: UpdateExportInputSchema,
  Export: ExportViewSchema,
  SavedExport: SavedExportViewSchema,
  ExportList: ExportListSchema,
  Run: RunViewSchema,
  RunStarted: RunStartedSchema,
  Me: MeSchema,
  AuditPage: AuditPageSchema,
};

export const routes = (openApi: () => unknown): Route[] => [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This API’s OpenAPI 3.1 description',
    action: 'public',
    responses: [{ status: 200, description: 'The document' }],
    handle: async () => json(200, openApi()),
  },
  ...connectionRoutes,
  ...exportRoutes,
  ...runRoutes,
  segmentsRoute,
  meRoute,
  auditRoute,
];
