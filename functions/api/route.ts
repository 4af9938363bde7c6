import type { Route as HttpRoute, RouteContext as HttpRouteContext } from '#functions/shared/http/router.ts';
import type { ApiDeps } from './deps.ts';

/** A route of the management API: its handler gets the API's dependencies. */
export type Route = HttpRoute<ApiDeps>;
export type RouteContext = HttpRouteContext<ApiDeps>;
