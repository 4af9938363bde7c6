/**
 * Runs the Autopilot stand-in on its own: `npm run fake-autopilot -- [flags]` (`--help` lists them).
 * Exits 2 on a bad flag, naming it; runs until SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DEFAULT_BEHAVIOUR } from './behaviour.ts';
import { numberFlag, oneOf, parseFlags, UsageError } from './cli-args.ts';
import { describeFaults, FAULT_FLAGS, FAULT_FLAGS_HELP, parseFaultFlags } from './fault-flags.ts';
import type { StandInOptions } from './index.ts';
import { startAutopilotStandIn } from './index.ts';

export const USAGE = `Usage: npm run fake-autopilot -- [flags]

A faithful fake of the Autopilot v1 API on http://HOST:PORT/v1 (through npm, flags go after "--").

Server and behaviour:
  --port N                  port (default 0: any free one; the URL is printed)
  --host H                  address to listen on (default 127.0.0.1)
  --api-key KEY             an accepted key, each its own account; repeatable (default: one generated
                            key, printed)
  --rate R                  requests per second per key, token bucket (default 5, as Autopilot documents)
  --burst N                 bucket size (default: the rate, at least 1)
  --retry-after             send Retry-After on the rate limiter's 429s (the real API: not evidenced)
  --bulk-list-membership ignore|honour
                            whether POST /contacts honours _autopilot_list (default ignore)
  --duplicate-list-names allow|conflict
                            POST /list with a title in use: a second list, or 409 (default allow)
  --delete-status 200|204   answer of DELETE /contact (default 200)
  --seed N                  seed of the fault dice, so a run can be repeated (default: random, printed)
  --quiet                   no request log
  --help, -h                this text

${FAULT_FLAGS_HELP}`;

const SERVER_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  rate: { type: 'string' },
  burst: { type: 'string' },
  'bulk-list-membership': { type: 'string' },
  'duplicate-list-names': { type: 'string' },
  'delete-status': { type: 'string' },
  'retry-after': { type: 'boolean' },
  seed: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CLI_FLAGS = { ...SERVER_FLAGS, ...FAULT_FLAGS };

export interface ParsedCli {
  options: StandInOptions;
  generatedKey?: string;
  quiet: boolean;
}

/** Throws UsageError, naming the flag, for anything it cannot take exactly as given. */
export function parseCli(argv: readonly string[]): ParsedCli {
  const v = parseFlags(argv, CLI_FLAGS, 'run fake-autopilot');
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  const options: StandInOptions = {};
  const port = str('port');
  if (port !== undefined) options.port = numberFlag('port', port, { min: 0, max: 65_535, integer: true });
  const host = str('host');
  if (host !== undefined) {
    if (host.trim() === '' || host.length > 255)
      throw new UsageError('--host: expected a host name or address.');
    options.host = host;
  }
  const rate = str('rate');
  if (rate !== undefined)
    options.ratePerSecond = numberFlag('rate', rate, { min: 0, max: 1_000_000, minExclusive: true });
  const burst = str('burst');
  if (burst !== undefined) options.burst = numberFlag('burst', burst, { min: 1, max: 1_000_000 });
  const bulk = str('bulk-list-membership');
  if (bulk !== undefined)
    options.bulkListMembership = oneOf('bulk-list-membership', bulk, ['ignore', 'honour']);
  const duplicates = str('duplicate-list-names');
  if (duplicates !== undefined)
    options.duplicateListNames = oneOf('duplicate-list-names', duplicates, ['allow', 'conflict']);
  const deleteStatus = str('delete-status');
  if (deleteStatus !== undefined)
    options.deleteContactStatus = Number(oneOf('delete-status', deleteStatus, ['200', '204'])) as 200 | 204;
  if (v['retry-after'] === true) options.retryAfter = true;
  const seed = str('seed');
  options.seed =
    seed === undefined
      ? randomBytes(4).readUInt32BE() >>> 1
      : numberFlag('seed', seed, { min: -(2 ** 31), max: 2 ** 32, integer: true });
  const faults = parseFaultFlags(v);
  if (faults !== undefined) options.faults = faults;

  const keys = (v['api-key'] as string[] | undefined) ?? [];
  if (keys.some((key) => key.trim() === '')) throw new UsageError('--api-key: a key must not be empty.');
  const generatedKey = keys.length === 0 ? randomBytes(16).toString('hex') : undefined;
  options.apiKeys = generatedKey === undefined ? [...new Set(keys)] : [generatedKey];
  return {
    options,
    ...(generatedKey === undefined ? {} : { generatedKey }),
    quiet: v.quiet === true,
  };
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'not allowed to listen there',
  EADDRNOTAVAIL: 'no such local address',
  ENOTFOUND: 'unknown host',
};

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let cli: ParsedCli;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`fake-autopilot: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { options, generatedKey, quiet } = cli;
  if (!quiet) options.log = (line) => console.log(line);
  let standIn: Awaited<ReturnType<typeof startAutopilotStandIn>>;
  try {
    standIn = await startAutopilotStandIn(options);
  } catch (error) {
    const reason = LISTEN_ERRORS[(error as NodeJS.ErrnoException).code ?? ''];
    if (reason === undefined) throw error;
    console.error(
      `fake-autopilot: --host ${options.host ?? '127.0.0.1'} --port ${options.port ?? 0}: ${reason}.`,
    );
    process.exitCode = 2;
    return;
  }

  if (generatedKey !== undefined)
    console.log(`Generated API key (send as header autopilotapikey): ${generatedKey}`);
  else console.log(`API keys: ${options.apiKeys?.length ?? 0} (as given; not shown)`);
  const rate = options.ratePerSecond ?? DEFAULT_BEHAVIOUR.ratePerSecond;
  const burst = options.burst ?? Math.max(1, rate);
  console.log(
    [
      `rate ${rate} r/s per key (burst ${burst})`,
      `bulk _autopilot_list: ${options.bulkListMembership ?? 'ignore'}`,
      `duplicate list names: ${options.duplicateListNames ?? 'allow'}`,
      `delete status: ${options.deleteContactStatus ?? 200}`,
      `Retry-After on 429: ${options.retryAfter ? 'yes' : 'no'}`,
      `seed ${options.seed}`,
      `faults: ${describeFaults(options.faults)}`,
    ].join('; '),
  );
  // Last, so a reader that sees the full URL line has everything above it too.
  console.log(`Autopilot stand-in listening on ${standIn.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`Received ${signal}, closing the stand-in.`);
    const faults = standIn.faultCounts();
    if (Object.keys(faults).length > 0) console.log(`Faults injected: ${JSON.stringify(faults)}`);
    standIn.close().then(
      () => console.log('Stand-in closed.'),
      (error: unknown) => {
        console.error('fake-autopilot: error while closing:', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run only as a program, so tests can import parseCli.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error('fake-autopilot:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
