/**
 * Routes and regions. One server stands in for all three regional hosts: the region comes from a
 * path prefix (`/eu/v1/...`, `/au/v1/...`; plain `/v1/...` is the global host) or, without one, from
 * a Host header naming a real regional host (`api.eu.ap3api.com`), so a client can reach it either by
 * a per-region base URL or through a proxy that keeps the real host name.
 */
import type { Region } from './types.ts';

export type RouteName =
  | 'merge'
  | 'personGet'
  | 'personGetByIds'
  | 'tagsGet'
  | 'fieldsGet'
  | 'fieldCreate'
  | 'audiencesGet';

const ROUTES: ReadonlyArray<{ path: string; name: RouteName }> = [
  { path: '/v1/person/merge', name: 'merge' },
  { path: '/v1/person/get', name: 'personGet' },
  { path: '/v1/person/get-by-ids', name: 'personGetByIds' },
  { path: '/v1/tags/get', name: 'tagsGet' },
  { path: '/v1/person/custom-field/get', name: 'fieldsGet' },
  { path: '/v1/person/custom-field/create', name: 'fieldCreate' },
  { path: '/v1/audiences/get', name: 'audiencesGet' },
];

/** Every route is a POST, reads included, as on the real API. */
export const ROUTE_KEYS: readonly string[] = ROUTES.map((r) => `POST ${r.path}`);
export const UNKNOWN_ROUTE = 'UNKNOWN';
export const REGIONS: readonly Region[] = ['global', 'eu', 'au'];

/** The real hosts, for the docs and for Host-header matching. */
export const REGION_HOSTS: Readonly<Record<Region, string>> = {
  global: 'api.ap3api.com',
  eu: 'api.eu.ap3api.com',
  au: 'api.au.ap3api.com',
};

export const regionPrefix = (region: Region): string => (region === 'global' ? '' : `/${region}`);

export interface RouteMatch {
  name?: RouteName;
  /** Route key for counts, without the region prefix; UNKNOWN_ROUTE when nothing matched. */
  key: string;
  region: Region;
}

const regionOfHost = (host: string | undefined): Region => {
  const name = (host ?? '').slice(0, 300).toLowerCase().split(':')[0];
  if (name === REGION_HOSTS.eu) return 'eu';
  if (name === REGION_HOSTS.au) return 'au';
  return 'global';
};

/** `rawPath` is the request target without the query string. */
export function matchRoute(method: string, rawPath: string, host: string | undefined): RouteMatch {
  let region = regionOfHost(host);
  let path = rawPath.replace(/\/$/, '');
  for (const r of ['eu', 'au'] as const) {
    if (path.startsWith(`/${r}/`)) {
      region = r;
      path = path.slice(r.length + 1);
    }
  }
  const route = method === 'POST' ? ROUTES.find((r) => r.path === path) : undefined;
  if (route === undefined) return { key: UNKNOWN_ROUTE, region };
  return { name: route.name, key: `POST ${route.path}`, region };
}
