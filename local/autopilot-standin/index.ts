/** The Autopilot v1 stand-in: a faithful fake of autopilot-api.md §7 on loopback HTTP. */
export { DEFAULT_BEHAVIOUR } from './behaviour.ts';
export { BULK_LIMIT } from './handlers.ts';
export { MAX_BODY_BYTES } from './http-io.ts';
export { ROUTE_KEYS, UNKNOWN_ROUTE } from './routes.ts';
export { startAutopilotStandIn } from './server.ts';
export type {
  AutopilotStandIn,
  FaultCount,
  FaultKind,
  FaultOptions,
  FaultPhase,
  FaultRule,
  RequestRecord,
  StandInBehaviour,
  StandInContact,
  StandInList,
  StandInOptions,
} from './types.ts';
