import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { ApiDeps } from './deps.ts';
import { fromApiGateway, toApiGateway } from './http.ts';
import { buildOpenApi } from './openapi.ts';
import { createRouter, type Route } from './router.ts';
import { NAMED_SCHEMAS, routes } from './routes.ts';

/** The OpenAPI document of every API route (what `GET /openapi.json` serves). */
export const openApiDocument = (): Record<string, unknown> => buildOpenApi(apiRoutes(), NAMED_SCHEMAS);

/** Every route with the document built once from them. */
export const apiRoutes = (): Route[] => {
  let document: unknown;
  const all: Route[] = routes(() => {
    document ??= buildOpenApi(all, NAMED_SCHEMAS);
    return document;
  });
  return all;
};

/** The management API (connections, exports, runs, segments) behind API Gateway's JWT authorizer. */
export const createApiHandler = (deps: ApiDeps & { flushMetrics?(): void }) => {
  const route = createRouter(apiRoutes(), deps);
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    try {
      const response = await route(fromApiGateway(event));
      deps.logger.info('request', {
        method: event.requestContext.http.method,
        route: event.routeKey,
        status: response.status,
        requestId: event.requestContext.requestId,
      });
      return toApiGateway(response);
    } finally {
      deps.flushMetrics?.();
    }
  };
};
