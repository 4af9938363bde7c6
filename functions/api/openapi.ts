import * as z from 'zod';
import { ACCESS_TEXT } from '#lib/domain/access.ts';
import { MAX_ID_BYTES } from '#lib/domain/validation.ts';
import type { Route } from './route.ts';

const toJson = (schema: z.ZodType, io: 'input' | 'output'): unknown =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

type JsonSchema = { properties?: Record<string, JsonSchema>; required?: string[]; default?: unknown };

/**
 * For a body that replaces a resource (PUT): every property with a default is required, here and in
 * nested objects, because leaving it out would reset it (the use case refuses that).
 */
const requireDefaults = (schema: JsonSchema): JsonSchema => {
  if (schema.properties === undefined) return schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([k, v]) => [k, requireDefaults(v)]),
  );
  const defaulted = Object.entries(schema.properties)
    .filter(([, v]) => v.default !== undefined)
    .map(([k]) => k);
  return { ...schema, properties, required: [...new Set([...(schema.required ?? []), ...defaulted])] };
};

/**
 * The OpenAPI 3.1 description, generated from the same route table and zod schemas the API runs
 * on. Committed as docs/openapi.json; a test fails when the copy is stale (`npm run openapi`).
 */
export const buildOpenApi = (
  routes: readonly Route[],
  named: Record<string, z.ZodType> = {},
): Record<string, unknown> => {
  const names = new Map(Object.entries(named).map(([name, schema]) => [schema, name]));
  const components: Record<string, unknown> = {};
  // A named schema is written once under components (with its input or output shape) and referenced.
  const schemaOf = (schema: z.ZodType, io: 'input' | 'output', replaces = false): unknown => {
    const name = names.get(schema);
    const shape = () => {
      const generated = toJson(schema, io);
      return replaces ? requireDefaults(generated as JsonSchema) : generated;
    };
    if (name === undefined) return shape();
    // Input and output shapes differ where defaults apply, so each gets its own entry.
    const key = io === 'input' ? `${name}Input` : name;
    components[key] ??= shape();
    return { $ref: `#/components/schemas/${key}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      description: `At most ${MAX_ID_BYTES} bytes, no control characters`,
      schema: { type: 'string', minLength: 1 },
    }));
    const query = (route.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: false,
      description: q.description,
      schema: schemaOf(q.schema, 'input'),
    }));
    const responses: Record<string, unknown> = {};
    for (const r of route.responses) {
      responses[String(r.status)] = {
        description: r.description,
        ...(r.schema
          ? {
              content: {
                [r.status >= 400 ? 'application/problem+json' : 'application/json']: {
                  schema: schemaOf(r.schema, 'output'),
                },
              },
            }
          : {}),
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      description: `Access: ${ACCESS_TEXT[route.action]}.`,
      ...(route.action === 'public' ? { security: [] } : {}),
      ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: !route.body.safeParse(undefined).success,
              content: { 'application/json': { schema: schemaOf(route.body, 'input', route.replaces) } },
            },
          }
        : {}),
      responses,
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'autopilot-export management API',
      version: '1.0.0',
      description:
        'Connections (Autopilot API keys, consent, sharing), exports (segments and field matching), runs and ' +
        'segments. Roles come from the token’s groups: admins, contributors, viewers. Errors are RFC 9457 ' +
        'problem details; validation errors name each field in `errors`.',
    },
    security: [{ bearerJwt: [] }],
    paths,
    components: {
      securitySchemes: { bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
};
