/**
 * The stand-in's fault switches as command-line flags, shared by `npm run fake-autopilot` and
 * `npm start` (which passes them through to its stand-in). Each flag maps onto FaultOptions.
 */
import type { ParseArgsConfig } from 'node:util';
import { type FlagValues, numberFlag, oneOf, rangeFlag, UsageError } from './cli-args.ts';
import { activateFaults } from './fault-schema.ts';
import { ROUTE_KEYS } from './routes.ts';
import type { FaultOptions, FaultPhase, FaultRule } from './types.ts';

export const FAULT_FLAGS = {
  'error-rate': { type: 'string' },
  'error-status': { type: 'string' },
  'error-phase': { type: 'string' },
  'error-retry-after': { type: 'string' },
  'reset-rate': { type: 'string' },
  'reset-phase': { type: 'string' },
  'hang-rate': { type: 'string' },
  'hang-ms': { type: 'string' },
  'hang-phase': { type: 'string' },
  'malformed-rate': { type: 'string' },
  'fault-routes': { type: 'string' },
  'reject-email': { type: 'string', multiple: true },
  'revoke-after-requests': { type: 'string' },
  'revoke-after-ms': { type: 'string' },
  outage: { type: 'string', multiple: true },
  latency: { type: 'string' },
  faults: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const FAULT_FLAG_NAMES = Object.keys(FAULT_FLAGS);

export const FAULT_FLAGS_HELP = `Fault injection (any combination; rates are per request, seeded by --seed; "before": the request
never reaches Autopilot's logic, nothing is written; "after": the write takes effect, then the answer
is lost, late or wrong):
  --error-rate P            answer this share of requests (0-1) with --error-status instead
  --error-status S          status of those answers, 400-599 (default 500); 429 is throttling without Retry-After
  --error-phase before|after  default before
  --error-retry-after V     send "Retry-After: V" with them (e.g. 2, 3600, soon: clients must clamp it)
  --reset-rate P            drop the connection without an answer
  --reset-phase before|after  default before
  --hang-rate P             hold the request --hang-ms so the client's timeout fires
  --hang-ms MS              default 30000
  --hang-phase before|after  before (default): then answer 504, nothing written; after: the write
                            takes effect and the answer comes late
  --malformed-rate P        answer a 2xx whose body is cut short (not JSON), after the write
  --fault-routes LIST       limit the rate faults above to these routes, comma-separated
                            (e.g. "POST /contacts,POST /contact"; as named in the request counts)
  --reject-email E          Autopilot refuses this contact for good: an address, or a suffix starting
                            with @ or . (e.g. @blocked.example): 400 on POST /contact, left out of
                            email_contact_map on POST /contacts; repeatable
  --revoke-after-requests N  every key answers 401 after N of its requests (a key revoked mid-run)
  --revoke-after-ms MS      every key answers 401 from MS after the faults start
  --outage FROM-TO[:S]      every request in this window (ms after the faults start) gets S
                            (default 503); repeatable
  --latency MIN-MAX         added latency per request, in ms (e.g. 20-80)
  --faults JSON             a whole fault set (FaultOptions in local/autopilot-standin/types.ts): rules
                            with rates or schedules (every Nth, at request numbers, time windows,
                            at most N), combined with the flags above
`;

const rate = (flag: string, raw: string): number => numberFlag(flag, raw, { min: 0, max: 1 });
const phase = (flag: string, raw: string | undefined): FaultPhase =>
  raw === undefined ? 'before' : oneOf(flag, raw, ['before', 'after'] as const);

/** A flag that only qualifies another makes no sense alone: refused rather than silently ignored. */
const needs = (v: FlagValues, flag: string, base: string): void => {
  if (v[flag] !== undefined && v[base] === undefined)
    throw new UsageError(`--${flag}: needs --${base} as well.`);
};

const parseJsonFaults = (raw: string): FaultOptions => {
  if (raw.length > 100_000) throw new UsageError('--faults: longer than 100,000 characters.');
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as FaultOptions;
  } catch (error) {
    throw new UsageError(`--faults: not a JSON object (${(error as Error).message}).`);
  }
};

const outage = (raw: string): NonNullable<FaultOptions['outages']>[number] => {
  const match = raw.length <= 40 ? /^(\d+)-(\d+)(?::(\d{3}))?$/.exec(raw) : null;
  if (match === null) {
    throw new UsageError(
      `--outage: "${raw.slice(0, 40)}" is not valid (expected FROM-TO[:STATUS] in ms, e.g. 5000-8000:503).`,
    );
  }
  const fromMs = Number(match[1]);
  const toMs = Number(match[2]);
  const status =
    match[3] === undefined
      ? undefined
      : numberFlag('outage', match[3], { min: 400, max: 599, integer: true });
  if (toMs < fromMs) throw new UsageError(`--outage: "${raw}" ends before it starts.`);
  return status === undefined ? { fromMs, toMs } : { fromMs, toMs, status };
};

/** The fault flags → a validated FaultOptions, or undefined when none was given. */
export const parseFaultFlags = (v: FlagValues): FaultOptions | undefined => {
  for (const [flag, base] of [
    ['error-status', 'error-rate'],
    ['error-phase', 'error-rate'],
    ['error-retry-after', 'error-rate'],
    ['reset-phase', 'reset-rate'],
    ['hang-ms', 'hang-rate'],
    ['hang-phase', 'hang-rate'],
  ] as const) {
    needs(v, flag, base);
  }
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  const routes = str('fault-routes')
    ?.slice(0, 2_000)
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  for (const route of routes ?? []) {
    if (!ROUTE_KEYS.includes(route)) {
      throw new UsageError(
        `--fault-routes: unknown route "${route.slice(0, 80)}" (known: ${ROUTE_KEYS.join(', ')}).`,
      );
    }
  }
  const rateFlags = ['error-rate', 'reset-rate', 'hang-rate', 'malformed-rate'];
  if (routes !== undefined && rateFlags.every((f) => v[f] === undefined)) {
    throw new UsageError(`--fault-routes: needs one of ${rateFlags.map((f) => `--${f}`).join(', ')}.`);
  }
  const on = routes === undefined ? {} : { routes };

  const fromJson = str('faults') === undefined ? {} : parseJsonFaults(str('faults') ?? '');
  const rules: FaultRule[] = [...(fromJson.rules ?? [])];
  const errorRate = str('error-rate');
  if (errorRate !== undefined) {
    const status = str('error-status');
    const retryAfter = str('error-retry-after');
    if (retryAfter !== undefined && !/^[\x20-\x7e]{0,200}$/.test(retryAfter.slice(0, 201))) {
      throw new UsageError('--error-retry-after: expected at most 200 printable ASCII characters.');
    }
    rules.push({
      kind: 'error',
      rate: rate('error-rate', errorRate),
      status:
        status === undefined
          ? 500
          : numberFlag('error-status', status, { min: 400, max: 599, integer: true }),
      phase: phase('error-phase', str('error-phase')),
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...on,
    });
  }
  const resetRate = str('reset-rate');
  if (resetRate !== undefined) {
    rules.push({
      kind: 'reset',
      rate: rate('reset-rate', resetRate),
      phase: phase('reset-phase', str('reset-phase')),
      ...on,
    });
  }
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

  const faults: FaultOptions = { ...fromJson };
  if (rules.length > 0) faults.rules = rules;
  const rejects = (v['reject-email'] as string[] | undefined) ?? [];
  for (const pattern of rejects) {
    const p = pattern.trim();
    if (
      p.length < 2 ||
      p.length > 254 ||
      !(p.startsWith('@') || p.startsWith('.') || /^[^\s@]+@[^\s@]+$/.test(p))
    ) {
      // The value is a contact's address: never echoed.
      throw new UsageError("--reject-email: expected an email address or a suffix starting with '@' or '.'.");
    }
  }
  if (rejects.length > 0) faults.rejectContacts = [...(fromJson.rejectContacts ?? []), ...rejects];
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
    // Every other flag was checked on its own above, so what is left concerns --faults.
    throw new UsageError(`--faults: ${(error as Error).message.replace(/^Invalid fault set: /, '')}`);
  }
  return faults;
};

/** One line saying what the fault set does, for a start-up banner; contact patterns are counted, not shown. */
export const describeFaults = (faults: FaultOptions | undefined): string => {
  if (faults === undefined) return 'none';
  const active = activateFaults(faults);
  const parts = active.rules.map((r) => {
    const when = [
      r.rate === undefined ? undefined : `${Number((r.rate * 100).toPrecision(3))}%`,
      r.every === undefined ? undefined : `every ${r.every}th`,
      r.at === undefined ? undefined : `requests ${[...r.at].slice(0, 5).join(',')}`,
      Number.isFinite(r.toMs) || r.fromMs > 0 ? `${r.fromMs}-${r.toMs} ms` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(' ');
    const where = r.routes === undefined ? '' : ` on ${[...r.routes].join(', ')}`;
    return `${r.name}${when === '' ? ' always' : ` ${when}`}${where}`;
  });
  if (active.rejectContacts.length > 0)
    parts.push(`${active.rejectContacts.length} rejected contact pattern(s)`);
  const revoke = active.revokeKeys;
  if (revoke?.afterRequests !== undefined) parts.push(`keys revoked after ${revoke.afterRequests} requests`);
  if (revoke?.afterMs !== undefined) parts.push(`keys revoked after ${revoke.afterMs} ms`);
  if (active.latencyMs !== undefined)
    parts.push(`latency ${active.latencyMs.min}-${active.latencyMs.max} ms`);
  return parts.length === 0 ? 'none' : parts.join('; ');
};
