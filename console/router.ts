import { useEffect, useState } from 'preact/hooks';

/** Console routes live in the URL's hash, so they never collide with the API's paths on the same origin. */
export type Route =
  | { page: 'sign-in' }
  | { page: 'connections' }
  | { page: 'connection-new' }
  | { page: 'connection'; id: string }
  | { page: 'not-found' };

/** The API's ids are at most 256 bytes; a longer hash cannot name one. */
const MAX_ID = 256;

export const parseRoute = (hash: string): Route => {
  const path = hash.replace(/^#/, '').slice(0, 1_000) || '/connections';
  if (path === '/sign-in') return { page: 'sign-in' };
  if (path === '/connections' || path === '/') return { page: 'connections' };
  if (path === '/connections/new') return { page: 'connection-new' };
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

export const href = (route: Route): string => {
  switch (route.page) {
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
