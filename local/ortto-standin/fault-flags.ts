/** The Ortto stand-in's fault switches as command-line flags; each maps onto FaultOptions. */
import type { ParseArgsConfig } from 'node:util';
import {
  type FlagValues,
  numberFlag,
  oneOf,
  rangeFlag,
  UsageError,
} from '#local/autopilot-standin/cli-args.ts';
import { activateFaults } from './fault-schema.ts';
import { ROUTE_KEYS } from './routes.ts';
import type { FaultOptions, FaultPhase, FaultRule } from './types.ts';

export const FAULT_FLAGS = {
  'error-rate': { type: 'string' },
  'error-status': { type: 'string' },
  'error-phase': { type: 'string' },
  'error-try-in-seconds': { type: 'string' },
  'reset-rate': { type: 'string' },
  'reset-phase': { type: 'string' },
  'hang-rate': { type: 'string' },
  'hang-ms': { type: 'string' },
  'hang-phase': { type: 'string' },
  'malformed-rate': { type: 'string' },
  'fault-routes': { type: 'string' },
  'revoke-after-requests': { type: 'string' },
  'revoke-after-ms': { type: 'string' },
  outage: { type: 'string', multiple: true },
  latency: { type: 'string' },
  faults: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const FAULT_FLAGS_HELP = `Fault injection (rates are per request, seeded by --seed; "before": nothing is written;
"after": the write takes effect, then the answer is lost, late or wrong):
  --error-rate P            answer this share of requests (0-1) with --error-status instead
  --error-status S          400-599 (default 500); 429 answers Ortto's rate-limit body
  --error-phase before|after  default before
  --error-try-in-seconds N  try-in-seconds of injected 429s (default 1)
  --reset-rate P            drop the connection without an answer
  --reset-phase before|after  default before
  --hang-rate P             hold the request --hang-ms so the client's timeout fires
  --hang-ms MS              default 30000
  --hang-phase before|after  before (default): then 504, nothing written; after: the write happens
  --malformed-rate P        answer a 2xx whose body is cut short (not JSON), after the write
  --fault-routes LIST       limit the rate faults to these routes, comma-separated
                            (e.g. "POST /v1/person/merge", as named in the request counts)
  --revoke-after-requests N  every key answers 401 after N of its requests
  --revoke-after-ms MS      every key answers 401 from MS after the faults start
  --outage FROM-TO[:S]      every request in this window (ms) gets S (default 503); repeatable
  --latency MIN-MAX         added latency per request, in ms
  --faults JSON             a whole fault set (FaultOptions in local/ortto-standin/types.ts), combined
                            with the flags above
`;

const rate = (flag: string, raw: string): number => numberFlag(flag, raw, { min: 0, max: 1 });
const phase = (flag: string, raw: string | undefined): FaultPhase =>
  raw === undefined ? 'before' : oneOf(flag, raw, ['before', 'after'] as const);

const parseJson = (raw: string): FaultOptions => {
  if (raw.length > 100_000) throw new UsageError('--faults: longer than 100,000 characters.');
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as FaultOptions;
  } catch (error) {
    throw new UsageError(`--faults: not a JSON object (${(error as Error).message}).`);
  }
};

const outage = (raw: string): { fromMs: number; toMs: number; status?: number } => {
  const match = raw.length <= 40 ? /^(\d+)-(\d+)(?::(\d{3}))?$/.exec(raw) : null;
  if (match === null || Number(match[2]) < Number(match[1]))
    throw new UsageError(`--outage: "${raw.slice(0, 40)}" is not valid (expected FROM-TO[:STATUS] in ms).`);
  const status =
    match[3] === undefined ? {} : { status: numberFlag('outage', match[3], { min: 400, max: 599 }) };
  return { fromMs: Number(match[1]), toMs: Number(match[2]), ...status };
};

/** The fault flags → a validated FaultOptions, or undefined when none was given. */
export function parseFaultFlags(v: FlagValues): FaultOptions | undefined {
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  for (const [flag, base] of [
    ['error-status', 'error-rate'],
    ['error-phase', 'error-rate'],
    ['error-try-in-seconds', 'error-rate'],
    ['reset-phase', 'reset-rate'],
    ['hang-ms', 'hang-rate'],
    ['hang-phase', 'hang-rate'],
  ] as const) {
    if (v[flag] !== undefined && v[base] === undefined)
      throw new UsageError(`--${flag}: needs --${base} as well.`);
  }
  const routes = str('fault-routes')
    ?.slice(0, 2_000)
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const unknown = routes?.find((r) => !ROUTE_KEYS.includes(r));
  if (unknown !== undefined)
    throw new UsageError(
      `--fault-routes: unknown route "${unknown.slice(0, 80)}" (known: ${ROUTE_KEYS.join(', ')}).`,
    );
  const on = routes === undefined ? {} : { routes };
  const fromJson = str('faults') === undefined ? {} : parseJson(str('faults') ?? '');
  const rules: FaultRule[] = [...(fromJson.rules ?? [])];
  const errorRate = str('error-rate');
  if (errorRate !== undefined) {
    const status = numberFlag('error-status', str('error-status') ?? '500', {
      min: 400,
      max: 599,
      integer: true,
    });
    const tries = str('error-try-in-seconds');
    if (tries !== undefined && status !== 429)
      throw new UsageError('--error-try-in-seconds: needs --error-status 429.');
    rules.push({
      kind: 'error',
      rate: rate('error-rate', errorRate),
      status,
      phase: phase('error-phase', str('error-phase')),
      ...(tries === undefined
        ? {}
        : {
            tryInSeconds: numberFlag('error-try-in-seconds', tries, { min: 0, max: 86_400, integer: true }),
          }),
      ...on,
    });
  }
  const resetRate = str('reset-rate');
  if (resetRate !== undefined)
    rules.push({
      kind: 'reset',
      rate: rate('reset-rate', resetRate),
      phase: phase('reset-phase', str('reset-phase')),
      ...on,
    });
  const hangRate = str('hang-rate');
  if (hangRate !== undefined) {
    const hangMs = str('hang-ms');
    rules.push({
      kind: 'hang',
      rate: rate('hang-rate', hangRate),
      phase: phase('hang-phase', str('hang-phase')),
      ...(hangMs === undefined ? {} : { hangMs: numberFlag('hang-ms', hangMs, { min: 0, max: 3_600_000 }) }),
      ...on,
    });
  }
  const malformedRate = str('malformed-rate');
  if (malformedRate !== undefined)
    rules.push({ kind: 'malformed', rate: rate('malformed-rate', malformedRate), ...on });
  if (routes !== undefined && rules.length === (fromJson.rules ?? []).length)
    throw new UsageError(
      '--fault-routes: needs one of --error-rate, --reset-rate, --hang-rate, --malformed-rate.',
    );

  const faults: FaultOptions = { ...fromJson };
  if (rules.length > 0) faults.rules = rules;
  const afterRequests = str('revoke-after-requests');
  const afterMs = str('revoke-after-ms');
  if (afterRequests !== undefined || afterMs !== undefined) {
    faults.revokeKeys = {
      ...fromJson.revokeKeys,
      ...(afterRequests === undefined
        ? {}
        : {
            afterRequests: numberFlag('revoke-after-requests', afterRequests, {
              min: 0,
              max: 1e12,
              integer: true,
            }),
          }),
      ...(afterMs === undefined
        ? {}
        : { afterMs: numberFlag('revoke-after-ms', afterMs, { min: 0, max: 86_400_000 }) }),
    };
  }
  const outages = (v.outage as string[] | undefined) ?? [];
  if (outages.length > 0) faults.outages = [...(fromJson.outages ?? []), ...outages.map(outage)];
  const latency = str('latency');
  if (latency !== undefined) faults.latencyMs = rangeFlag('latency', latency);
  if (Object.keys(faults).length === 0) return undefined;
  try {
    activateFaults(faults);
  } catch (error) {
    // Every flag was checked on its own above, so what is left concerns --faults.
    throw new UsageError(`--faults: ${(error as Error).message.replace(/^Invalid fault set: /, '')}`);
  }
  return faults;
}
