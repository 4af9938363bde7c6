import * as z from 'zod';
import { flag, json, param, problems, query } from '#functions/shared/http/route-helpers.ts';
import { NotFoundError } from '#lib/domain/errors.ts';
import {
  CreateConnectionInputSchema,
  RotateKeyInputSchema,
  UpdateConnectionInputSchema,
} from '#lib/use-cases/connection-inputs.ts';
import { createConnection, updateConnection } from '#lib/use-cases/manage-connections.ts';
import { type ConnectionRemovalDeps, deleteConnection } from '#lib/use-cases/remove-connection.ts';
import { rotateKey } from '#lib/use-cases/rotate-key.ts';
import type { ApiDeps } from './deps.ts';
import type { Route } from './route.ts';
import { ConnectionAnyViewSchema, ConnectionViewSchema, connectionView } from './views.ts';

const connectionDeps = (deps: ApiDeps): ConnectionRemovalDeps => ({
  ...deps,
  ...deps.state,
  newId: () => deps.newId('conn'),
});

export const connectionRoutes: Route[] = [
  {
    method: 'GET',
    path: '/connections',
    operationId: 'listConnections',
    summary:
      'List connections (admins see details; others see name and type) and whether the caller may use each',
    action: 'connection:read',
    responses: [
      {
        status: 200,
        description: 'Connections',
        schema: z.object({ connections: z.array(ConnectionAnyViewSchema) }),
      },
      ...problems(401, 403),
    ],
    handle: async ({ deps, caller }) => {
      const connections = await deps.state.connections.list();
      return json(200, { connections: connections.map((c) => connectionView(caller, c)) });
    },
  },
  {
    method: 'POST',
    path: '/connections',
    operationId: 'createConnection',
    summary:
      'Create an Autopilot or Ortto connection: verifies the API key with that destination (Ortto: in the ' +
      'chosen region) and records the privacy consent',
    action: 'connection:manage',
    body: CreateConnectionInputSchema,
    responses: [
      { status: 201, description: 'Created (the key is never returned)', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 413, 415, 503),
    ],
    handle: async ({ deps, caller, body }) =>
      json(201, connectionView(caller, await createConnection(connectionDeps(deps), body, caller))),
  },
  {
    method: 'GET',
    path: '/connections/{id}',
    operationId: 'getConnection',
    summary: 'One connection',
    action: 'connection:read',
    responses: [
      { status: 200, description: 'The connection', schema: ConnectionAnyViewSchema },
      ...problems(400, 401, 403, 404),
    ],
    handle: async (ctx) => {
      const c = await ctx.deps.state.connections.get(param(ctx, 'id'));
      if (c === undefined) throw new NotFoundError(`Connection ${param(ctx, 'id')} does not exist.`);
      return json(200, connectionView(ctx.caller, c));
    },
  },
  {
    method: 'PATCH',
    path: '/connections/{id}',
    operationId: 'updateConnection',
    summary:
      'Rename, change sharing, export users, cap or rate budget (send the version you read; ' +
      '`exportUsers` replaces the whole list). Type and region are fixed: another is a new connection',
    action: 'connection:manage',
    body: UpdateConnectionInputSchema,
    responses: [
      { status: 200, description: 'Updated', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 404, 409),
    ],
    handle: async (ctx) => {
      const updated = await updateConnection(
        connectionDeps(ctx.deps),
        param(ctx, 'id'),
        ctx.body,
        ctx.caller,
      );
      return json(200, connectionView(ctx.caller, updated));
    },
  },
  {
    method: 'POST',
    path: '/connections/{id}/rotate-key',
    operationId: 'rotateConnectionKey',
    summary:
      'Replace the API key (checked first with the connection’s destination and region). A key of a ' +
      'different Autopilot account is refused (409, code different_account) unless sent with ' +
      '"newAccount": true, which makes every export on the connection forget what it sent. Ortto cannot ' +
      'tell accounts apart, so an Ortto key is not compared: send "newAccount": true when it opens another',
    action: 'connection:manage',
    body: RotateKeyInputSchema,
    responses: [
      { status: 200, description: 'Rotated', schema: ConnectionViewSchema },
      ...problems(400, 401, 403, 404, 409, 503),
    ],
    handle: async (ctx) => {
      const rotated = await rotateKey(connectionDeps(ctx.deps), param(ctx, 'id'), ctx.body, ctx.caller);
      return json(200, connectionView(ctx.caller, rotated));
    },
  },
  {
    method: 'DELETE',
    path: '/connections/{id}',
    operationId: 'deleteConnection',
    summary: 'Remove a connection; refused while exports use it unless detach=true',
    action: 'connection:manage',
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
];
