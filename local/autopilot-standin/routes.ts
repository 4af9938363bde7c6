/**
 * Route matching. Route keys are templates ('GET /contact/{id}') so counts never hold ids or
 * emails. Path segments are percent-decoded one by one, so an email sent URL-encoded
 * (`a%2Bb%40x.com`) or raw (`a+b@x.com`) names the same contact; '+' is not a space in a path.
 */

export type RouteName =
  | 'upsertContact'
  | 'bulkUpsert'
  | 'getContact'
  | 'deleteContact'
  | 'unsubscribe'
  | 'listContacts'
  | 'customFields'
  | 'getLists'
  | 'createList'
  | 'listMembers'
  | 'getMembership'
  | 'addMembership'
  | 'removeMembership'
  | 'account';

export interface RouteMatch {
  name: RouteName;
  /** Template key used by counts() and the timeline. */
  key: string;
  /** Decoded path parameters, in order. */
  params: string[];
  /** False when a segment was not valid percent-encoding. */
  validEncoding: boolean;
}

interface RouteDef {
  method: string;
  pattern: string[];
  name: RouteName;
  key: string;
}

const def = (method: string, template: string, name: RouteName): RouteDef => ({
  method,
  pattern: template.split('/').filter((s) => s !== ''),
  name,
  key: `${method} /${template
    .split('/')
    .filter((s) => s !== '')
    .join('/')}`,
});

// Literal routes before parameterised ones: /contacts/custom_fields wins over /contacts/{bookmark}.
const ROUTES: readonly RouteDef[] = [
  def('POST', 'contact', 'upsertContact'),
  def('POST', 'contacts', 'bulkUpsert'),
  def('GET', 'contacts', 'listContacts'),
  def('GET', 'contacts/custom_fields', 'customFields'),
  def('GET', 'contacts/{bookmark}', 'listContacts'),
  def('GET', 'contact/{id}', 'getContact'),
  def('DELETE', 'contact/{id}', 'deleteContact'),
  def('POST', 'contact/{id}/unsubscribe', 'unsubscribe'),
  def('GET', 'lists', 'getLists'),
  def('POST', 'list', 'createList'),
  def('GET', 'list/{id}/contacts', 'listMembers'),
  def('GET', 'list/{id}/contacts/{bookmark}', 'listMembers'),
  def('GET', 'list/{id}/contact/{id}', 'getMembership'),
  def('POST', 'list/{id}/contact/{id}', 'addMembership'),
  def('DELETE', 'list/{id}/contact/{id}', 'removeMembership'),
  def('GET', 'account', 'account'),
];

export const ROUTE_KEYS: readonly string[] = ROUTES.map((r) => r.key);
export const UNKNOWN_ROUTE = 'UNKNOWN';
export const BASE_PATH = '/v1';

/** `rawPath` is the request target without the query string. */
export function matchRoute(method: string, rawPath: string): RouteMatch | undefined {
  if (rawPath !== BASE_PATH && !rawPath.startsWith(`${BASE_PATH}/`)) return undefined;
  const rest = rawPath.slice(BASE_PATH.length).replace(/\/$/, '');
  const segments = rest.split('/').slice(1);
  for (const route of ROUTES) {
    if (route.method !== method || route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    let validEncoding = true;
    let matched = true;
    for (const [i, part] of route.pattern.entries()) {
      const segment = segments[i] ?? '';
      if (part.startsWith('{')) {
        if (segment === '') {
          matched = false;
          break;
        }
        try {
          params.push(decodeURIComponent(segment));
        } catch {
          params.push(segment);
          validEncoding = false;
        }
      } else if (part !== segment) {
        matched = false;
        break;
      }
    }
    if (matched) return { name: route.name, key: route.key, params, validEncoding };
  }
  return undefined;
}
