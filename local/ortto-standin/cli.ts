/**
 * Runs the Ortto stand-in on its own: `tsx local/ortto-standin/cli.ts [flags]` (`--help` lists them).
 * Exits 2 on a bad flag, naming it; runs until SIGINT/SIGTERM.
 */
import { pathToFileURL } from 'node:url';
import { UsageError } from '#local/autopilot-standin/cli-args.ts';
import { DEFAULT_BEHAVIOUR } from './behaviour.ts';
import { type ParsedCli, parseCli, USAGE } from './cli-options.ts';
import { startOrttoStandIn } from './standin.ts';
import type { OrttoStandIn } from './types.ts';

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
    console.error(`fake-ortto: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { options, keys, generatedKey, quiet } = cli;
  if (!quiet) options.log = (line) => console.log(line);
  let standIn: OrttoStandIn;
  try {
    standIn = await startOrttoStandIn(options);
  } catch (error) {
    const reason = LISTEN_ERRORS[(error as NodeJS.ErrnoException).code ?? ''];
    if (reason === undefined) throw error;
    console.error(
      `fake-ortto: --host ${options.host ?? '127.0.0.1'} --port ${options.port ?? 0}: ${reason}.`,
    );
    process.exitCode = 2;
    return;
  }
  for (const { key, region } of keys) standIn.addKey(key, { region });

  if (generatedKey !== undefined)
    console.log(`Generated API key (global region; send as X-Api-Key): ${generatedKey}`);
  else console.log(`API keys: ${keys.length} (as given; not shown)`);
  const b = { ...DEFAULT_BEHAVIOUR, ...options };
  console.log(
    [
      `rate ${b.ratePerSecond} r/s per key (burst ${options.burst ?? Math.max(1, b.ratePerSecond)})`,
      `IP ban: ${b.banThreshold} bad requests in ${b.banWindowSeconds} s → ${b.banSeconds} s`,
      `mixed batches: ${b.mixedBatch}`,
      `tags under strategy 1/3: ${b.strategy1Tags}/${b.strategy3Tags}`,
      `tag filter: ${b.tagFilter ? 'on' : 'off'}`,
      `cross-region keys: ${b.crossRegionKeys ? 'accepted' : 'refused'}`,
      `Retry-After on 429: ${b.retryAfter ? 'yes' : 'no'}`,
      `seed ${options.seed}`,
      `faults: ${options.faults === undefined ? 'none' : JSON.stringify(options.faults)}`,
    ].join('; '),
  );
  console.log(`Regions: eu ${standIn.urls.eu}, au ${standIn.urls.au}`);
  // Last, so a reader that sees this line has everything above it too.
  console.log(`Ortto stand-in listening on ${standIn.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`Received ${signal}, closing the stand-in.`);
    const faults = standIn.faultCounts();
    if (Object.keys(faults).length > 0) console.log(`Faults injected: ${JSON.stringify(faults)}`);
    standIn.close().then(
      () => console.log('Stand-in closed.'),
      (error: unknown) => {
        console.error('fake-ortto: error while closing:', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run only as a program, so tests can import the options.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error('fake-ortto:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
