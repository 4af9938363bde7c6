import * as z from 'zod';
import { json, problems } from '#functions/shared/http/route-helpers.ts';
import type { Route } from './route.ts';

export const MeSchema = z.object({
  id: z
    .string()
    .meta({ description: "The caller's subject id: what `exportUsers[].id` and `createdBy` hold" }),
  role: z.enum(['admin', 'contributor', 'viewer']),
  name: z
    .string()
    .optional()
    .meta({ description: "The token's email, cognito:username or username claim (omitted when none fits)" }),
});

/** Who the caller is, as the API sees them: lets a client show the role and offer "add yourself". */
export const meRoute: Route = {
  method: 'GET',
  path: '/me',
  operationId: 'getMe',
  summary: 'The signed-in caller: id, role and display name',
  action: 'self:read',
  responses: [{ status: 200, description: 'The caller', schema: MeSchema }, ...problems(401, 403)],
  handle: async ({ caller }) =>
    json(200, {
      id: caller.id,
      role: caller.role,
      ...(caller.name === undefined ? {} : { name: caller.name }),
    }),
};
