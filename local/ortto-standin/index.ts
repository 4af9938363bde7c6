/** The Ortto stand-in on loopback HTTP (docs/ortto-standin.md). */
export { DEFAULT_BEHAVIOUR, ORTTO_DEFAULT_RATE } from './behaviour.ts';
export { MAX_CUSTOM_FIELDS } from './handlers.ts';
export { MAX_BODY_BYTES } from './http-io.ts';
export { MERGE_LIMIT } from './merge-input.ts';
export { PAGE_LIMIT } from './person-get.ts';
export { REGION_HOSTS, ROUTE_KEYS, UNKNOWN_ROUTE } from './routes.ts';
export { startOrttoStandIn } from './standin.ts';
export type * from './types.ts';
