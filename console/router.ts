import { useEffect, useState } from 'preact/hooks';

/** Console routes live in the URL's hash, so they never collide with the API's paths on the same origin. */
export type Route =
  | { page: 'sign-in' }
  | { page: 'connections' }
  | { page: 'connection-new' }
  | { page: 'connection'; id: string }
  | { page: 'run'; id: string }
  | { page: 'export-runs'; id: string }
  | { page: 'exports' }
  | { page: 'export-new' }
  | { page: 'export'; id: string }
  | { page: 'export-edit'; id: string }
  | { page: 'not-found' };

/** The API's ids are at most 256 bytes; a longer hash cannot name one. */
const MAX_ID = 256;

export const parseRoute = (hash: string): Route => {
  const path = hash.replace(/^#/, '').slice(0, 1_000) || '/connections';
  if (path === '/sign-in') return { page: 'sign-in' };
  if (path === '/connections' || path === '/') return { page: 'connections' };
  if (path === '/connections/new') return { page: 'connection-new' };
  // Before any `/exports/<id>` pattern: `/exports/<id>/runs` is the history, not an export named "<id>/runs".
  const runId = validId(/^\/runs\/([^/]+)$/.exec(path)?.[1]);
  if (runId !== undefined) return { page: 'run', id: runId };
  const runsOf = validId(/^\/exports\/([^/]+)\/runs$/.exec(path)?.[1]);
  if (runsOf !== undefined) return { page: 'export-runs', id: runsOf };
  if (path === '/exports') return { page: 'exports' };
  if (path === '/exports/new') return { page: 'export-new' };
  const editOf = validId(/^\/exports\/([^/]+)\/edit$/.exec(path)?.[1]);
  if (editOf !== undefined) return { page: 'export-edit', id: editOf };
  const exportId = validId(/^\/exports\/([^/]+)$/.exec(path)?.[1]);
  if (exportId !== undefined) return { page: 'export', id: exportId };
  const id = /^\/connections\/(.+)$/.exec(path)?.[1];
  if (id !== undefined) {
    const decoded = safeDecode(id);
    if (decoded !== undefined && decoded !== '' && decoded.length <= MAX_ID)
      return { page: 'connection', id: decoded };
  }
  return { page: 'not-found' };
};

const safeDecode = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};

/** An id from the hash, decoded, when it can name one. */
const validId = (raw: string | undefined): string | undefined => {
  const decoded = raw === undefined ? undefined : safeDecode(raw);
  return decoded !== undefined && decoded !== '' && decoded.length <= MAX_ID ? decoded : undefined;
};

export const href = (route: Route): string => {
  switch (route.page) {
    case 'run':
      return `#/runs/${encodeURIComponent(route.id)}`;
    case 'export-runs':
      return `#/exports/${encodeURIComponent(route.id)}/runs`;
    case 'exports':
      return '#/exports';
    case 'export-new':
      return '#/exports/new';
    case 'export':
      return `#/exports/${encodeURIComponent(route.id)}`;
    case 'export-edit':
      return `#/exports/${encodeURIComponent(route.id)}/edit`;
    case 'connection':
      return `#/connections/${encodeURIComponent(route.id)}`;
    case 'connection-new':
      return '#/connections/new';
    case 'sign-in':
      return '#/sign-in';
    default:
      return '#/connections';
  }
};

export const navigate = (route: Route): void => {
  window.location.hash = href(route);
};

export const useRoute = (): Route => {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
};
