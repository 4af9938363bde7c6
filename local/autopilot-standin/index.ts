/** The Autopilot v1 stand-in on loopback HTTP (docs/autopilot-api.md#stand-in). */
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
