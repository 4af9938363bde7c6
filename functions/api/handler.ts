import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { ApiDeps } from './deps.ts';

const problem = (status: number, title: string, detail: string): APIGatewayProxyResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({ type: 'about:blank', title, status, detail }),
});

/** The management API (connections, exports, runs, segments). Routes arrive with the API issue. */
export const createApiHandler =
  (deps: ApiDeps) =>
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    deps.logger.info('request', { route: event.routeKey });
    return problem(404, 'Not Found', `No route ${event.requestContext.http.method} ${event.rawPath}`);
  };
