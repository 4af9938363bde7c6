/** The command line of `tsx local/ortto-standin/cli.ts` (`npm run fake-ortto`), parsed strictly. */
import { randomBytes } from 'node:crypto';
import { numberFlag, oneOf, parseFlags, UsageError } from '#local/autopilot-standin/cli-args.ts';
import { FAULT_FLAGS, FAULT_FLAGS_HELP, parseFaultFlags } from './fault-flags.ts';
import type { Region, StandInOptions } from './types.ts';

export const USAGE = `Usage: npm run fake-ortto -- [flags]

A fake of Ortto's public REST API: http://HOST:PORT/v1 (global), /eu/v1 and /au/v1 (regions).
Requests with a Host header of a real regional host (api.eu.ap3api.com) are that region's too.

Server and behaviour:
  --port N                  port (default 0: any free one; the URLs are printed)
  --host H                  address to listen on (default 127.0.0.1)
  --api-key KEY             an accepted key in the global region, each its own account; repeatable
                            (default: one generated key, printed)
  --eu-api-key KEY          an accepted key in the EU region; repeatable
  --au-api-key KEY          an accepted key in the AU region; repeatable
  --cross-region-keys       accept a key on another region's host too (default: 401)
  --rate R                  requests per second per key, token bucket (default 10)
  --burst N                 bucket size (default: the rate, at least 1)
  --retry-after             also send Retry-After on 429s (the real API: not documented)
  --ban-threshold N         bad requests from one IP that start a ban (default 15)
  --ban-window S            ...counted within S seconds (default 15)
  --ban-seconds S           length of the ban (default 15; 0: never ban)
  --mixed-batch inline|omit|reject
                            a merge with some invalid people: their errors in place (default), left
                            out of the answer, or the whole batch refused with 400
  --skipped-answer ignored|omit
                            a skip_non_existing merge's answer for a person it skipped: an
                            {"status":"ignored"} entry (default) or none (positions shift)
  --strategy1-tags apply|ignore  tags on existing people under merge_strategy 1 (default apply)
  --strategy3-tags apply|ignore  tags on existing people under merge_strategy 3 (default ignore)
  --tag-filter              person/get accepts {"$id_set_is":{"field_id":"u4s::t","value":[ids]}}
  --seed N                  seed of the fault dice (default: random, printed)
  --quiet                   no request log
  --help, -h                this text

${FAULT_FLAGS_HELP}`;

const SERVER_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  'eu-api-key': { type: 'string', multiple: true },
  'au-api-key': { type: 'string', multiple: true },
  'cross-region-keys': { type: 'boolean' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  'retry-after': { type: 'boolean' },
  'ban-threshold': { type: 'string' },
  'ban-window': { type: 'string' },
  'ban-seconds': { type: 'string' },
  'mixed-batch': { type: 'string' },
  'skipped-answer': { type: 'string' },
  'strategy1-tags': { type: 'string' },
  'strategy3-tags': { type: 'string' },
  'tag-filter': { type: 'boolean' },
  seed: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CLI_FLAGS = { ...SERVER_FLAGS, ...FAULT_FLAGS };

export interface ParsedCli {
  options: StandInOptions;
  /** Keys by region, to add after start. */
  keys: Array<{ key: string; region: Region }>;
  generatedKey?: string;
  quiet: boolean;
}

/** Throws UsageError, naming the flag, for anything it cannot take exactly as given. */
export function parseCli(argv: readonly string[]): ParsedCli {
  const v = parseFlags(argv, CLI_FLAGS, 'run fake-ortto');
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  const num = (flag: string, bounds: Parameters<typeof numberFlag>[2]): number | undefined => {
    const raw = str(flag);
    return raw === undefined ? undefined : numberFlag(flag, raw, bounds);
  };
  const options: StandInOptions = {};
  const set = <K extends keyof StandInOptions>(key: K, value: StandInOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('port', num('port', { min: 0, max: 65_535, integer: true }));
  const host = str('host');
  if (host !== undefined && (host.trim() === '' || host.length > 255))
    throw new UsageError('--host: expected a host name or address.');
  set('host', host);
  set('ratePerSecond', num('rate', { min: 0, max: 1_000_000, minExclusive: true }));
  set('burst', num('burst', { min: 1, max: 1_000_000 }));
  set('banThreshold', num('ban-threshold', { min: 1, max: 1_000_000, integer: true }));
  set('banWindowSeconds', num('ban-window', { min: 0, max: 86_400, minExclusive: true }));
  set('banSeconds', num('ban-seconds', { min: 0, max: 86_400 }));
  const choice = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const raw = str(flag);
    return raw === undefined ? undefined : oneOf(flag, raw, allowed);
  };
  set('mixedBatch', choice('mixed-batch', ['inline', 'omit', 'reject']));
  set('skippedAnswer', choice('skipped-answer', ['ignored', 'omit']));
  set('strategy1Tags', choice('strategy1-tags', ['apply', 'ignore']));
  set('strategy3Tags', choice('strategy3-tags', ['apply', 'ignore']));
  if (v['retry-after'] === true) options.retryAfter = true;
  if (v['tag-filter'] === true) options.tagFilter = true;
  if (v['cross-region-keys'] === true) options.crossRegionKeys = true;
  options.seed =
    num('seed', { min: -(2 ** 31), max: 2 ** 32, integer: true }) ?? randomBytes(4).readUInt32BE() >>> 1;
  const faults = parseFaultFlags(v);
  if (faults !== undefined) options.faults = faults;

  const keys: ParsedCli['keys'] = [];
  for (const [flag, region] of [
    ['api-key', 'global'],
    ['eu-api-key', 'eu'],
    ['au-api-key', 'au'],
  ] as const) {
    for (const key of (v[flag] as string[] | undefined) ?? []) {
      if (key.trim() === '') throw new UsageError(`--${flag}: a key must not be empty.`);
      if (keys.some((k) => k.key === key)) throw new UsageError(`--${flag}: a key is given twice.`);
      keys.push({ key, region });
    }
  }
  const generatedKey = keys.length === 0 ? randomBytes(16).toString('hex') : undefined;
  if (generatedKey !== undefined) keys.push({ key: generatedKey, region: 'global' });
  return { options, keys, ...(generatedKey === undefined ? {} : { generatedKey }), quiet: v.quiet === true };
}
