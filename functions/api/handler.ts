import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { fromApiGateway, toApiGateway } from '#functions/shared/http/http.ts';
import { createRouter } from '#functions/shared/http/router.ts';
import { lambdaHandler, type Observability, unobserved } from '#functions/shared/observability.ts';
import type { ApiDeps } from './deps.ts';
import { buildOpenApi } from './openapi.ts';
import type { Route } from './route.ts';
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

/**
 * The management API (connections, exports, runs — starting one included — and segments) behind
 * API Gateway's JWT authorizer.
 */
export const createApiHandler = (deps: ApiDeps & { observability?: Observability }) => {
  const route = createRouter(apiRoutes(), deps);
  return lambdaHandler(
    deps.observability ?? unobserved,
    async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
      const response = await route(fromApiGateway(event));
      deps.logger.info('request', {
        method: event.requestContext.http.method,
        route: event.routeKey,
        status: response.status,
        requestId: event.requestContext.requestId,
      });
      return toApiGateway(response);
    },
  );
};
