/**
 * Runs the Autopilot stand-in on its own:
 *   npm run fake-autopilot -- --port 4010 --api-key KEY [--rate 5] [--burst N]
 *     [--bulk-list-membership ignore|honour] [--duplicate-list-names allow|conflict]
 *     [--delete-status 200|204] [--retry-after] [--error-rate 0.01] [--error-status 500]
 *     [--latency 20-80] [--seed N] [--host 127.0.0.1] [--quiet]
 * Exits 2 on a bad flag; runs until SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { FaultOptions, StandInOptions } from './index.ts';
import { startAutopilotStandIn } from './index.ts';

class UsageError extends Error {}

const USAGE = `Usage: fake-autopilot [--port 4010] [--host 127.0.0.1] [--api-key KEY ...] [--rate 5] [--burst N]
  [--bulk-list-membership ignore|honour] [--duplicate-list-names allow|conflict] [--delete-status 200|204]
  [--retry-after] [--error-rate 0..1] [--error-status 500] [--latency MIN-MAX] [--seed N] [--quiet]`;

function number(flag: string, raw: string, check: (n: number) => boolean, why: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${flag}: "${raw}" is not valid (${why}).`);
  }
  return value;
}

function oneOf<const T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${flag}: "${raw}" is not valid (expected ${allowed.join(' or ')}).`);
  }
  return raw as T;
}

export function parseCli(argv: string[]): { options: StandInOptions; generatedKey?: string; quiet: boolean } {
  let parsed: ReturnType<typeof parseWith>;
  try {
    parsed = parseWith(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const options: StandInOptions = {};
  if (v.port !== undefined) {
    options.port = number(
      'port',
      v.port,
      (n) => Number.isInteger(n) && n >= 0 && n <= 65_535,
      'expected an integer 0-65535',
    );
  }
  if (v.host !== undefined) options.host = v.host;
  if (v.rate !== undefined)
    options.ratePerSecond = number('rate', v.rate, (n) => n > 0, 'expected a number > 0');
  if (v.burst !== undefined)
    options.burst = number('burst', v.burst, (n) => n >= 1, 'expected a number >= 1');
  if (v['bulk-list-membership'] !== undefined) {
    options.bulkListMembership = oneOf('bulk-list-membership', v['bulk-list-membership'], [
      'ignore',
      'honour',
    ]);
  }
  if (v['duplicate-list-names'] !== undefined) {
    options.duplicateListNames = oneOf('duplicate-list-names', v['duplicate-list-names'], [
      'allow',
      'conflict',
    ]);
  }
  if (v['delete-status'] !== undefined) {
    options.deleteContactStatus = Number(oneOf('delete-status', v['delete-status'], ['200', '204'])) as
      | 200
      | 204;
  }
  if (v['retry-after']) options.retryAfter = true;
  if (v.seed !== undefined) {
    options.seed = number('seed', v.seed, Number.isSafeInteger, 'expected an integer');
  }

  const faults: FaultOptions = {};
  if (v['error-status'] !== undefined && v['error-rate'] === undefined) {
    throw new UsageError('--error-status: needs --error-rate as well.');
  }
  if (v['error-rate'] !== undefined) {
    const rate = number(
      'error-rate',
      v['error-rate'],
      (n) => n >= 0 && n <= 1,
      'expected a probability between 0 and 1',
    );
    const status =
      v['error-status'] === undefined
        ? 500
        : number(
            'error-status',
            v['error-status'],
            (n) => Number.isInteger(n) && n >= 400 && n <= 599,
            'expected an HTTP error status 400-599',
          );
    faults.errorRates = [{ status, rate }];
  }
  if (v.latency !== undefined) {
    const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(v.latency);
    const min = Number(match?.[1]);
    const max = match?.[2] === undefined ? min : Number(match[2]);
    if (match === null || min > max) {
      throw new UsageError(`--latency: "${v.latency}" is not valid (expected MIN-MAX in ms, e.g. 20-80).`);
    }
    faults.latencyMs = { min, max };
  }
  if (Object.keys(faults).length > 0) options.faults = faults;

  const keys = v['api-key'] ?? [];
  if (keys.some((key) => key.trim() === '')) throw new UsageError('--api-key: a key must not be empty.');
  const generatedKey = keys.length === 0 ? randomBytes(16).toString('hex') : undefined;
  options.apiKeys = generatedKey === undefined ? keys : [generatedKey];
  return { options, ...(generatedKey === undefined ? {} : { generatedKey }), quiet: v.quiet ?? false };
}

function parseWith(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'bulk-list-membership': { type: 'string' },
      'duplicate-list-names': { type: 'string' },
      'delete-status': { type: 'string' },
      'retry-after': { type: 'boolean' },
      'error-rate': { type: 'string' },
      'error-status': { type: 'string' },
      latency: { type: 'string' },
      seed: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`fake-autopilot: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { options, generatedKey, quiet } = cli;
  if (!quiet) options.log = (line) => console.log(line);
  const standIn = await startAutopilotStandIn(options);

  if (generatedKey !== undefined)
    console.log(`Generated API key (send as header autopilotapikey): ${generatedKey}`);
  else console.log(`API keys: ${options.apiKeys?.length ?? 0} (as given; not shown)`);
  const burst = options.burst ?? Math.max(1, options.ratePerSecond ?? 5);
  console.log(
    [
      `rate ${options.ratePerSecond ?? 5} r/s per key (burst ${burst})`,
      `bulk _autopilot_list: ${options.bulkListMembership ?? 'ignore'}`,
      `duplicate list names: ${options.duplicateListNames ?? 'allow'}`,
      `delete status: ${options.deleteContactStatus ?? 200}`,
      `Retry-After on 429: ${options.retryAfter ? 'yes' : 'no'}`,
      `faults: ${options.faults === undefined ? 'none' : JSON.stringify(options.faults)}`,
    ].join('; '),
  );
  // Last, so a reader that sees the full URL line has everything above it too.
  console.log(`Autopilot stand-in listening on ${standIn.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`Received ${signal}, closing the stand-in.`);
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

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error('fake-autopilot:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
