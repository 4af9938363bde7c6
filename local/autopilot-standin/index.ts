/** The Autopilot v1 stand-in: a faithful fake of autopilot-api.md §7 on loopback HTTP. */
export { DEFAULT_BEHAVIOUR } from './behaviour.ts';
export { BULK_LIMIT } from './handlers.ts';
export { ROUTE_KEYS, UNKNOWN_ROUTE } from './routes.ts';
export { MAX_BODY_BYTES, startAutopilotStandIn } from './server.ts';
export type {
  AutopilotStandIn,
  FaultOptions,
  RequestRecord,
  StandInBehaviour,
  StandInContact,
  StandInList,
  StandInOptions,
} from './types.ts';
