import { parseArgs } from 'node:util';
import * as z from 'zod';
import { buildConsole, formatConsoleBuild } from '#scripts/build-console.ts';
import { DEV_TOKENS, startLocalApiServer } from '../api-gateway.ts';
import { JavaMissingError } from '../dynamodb-local.ts';
import { FileLogger } from '../file-logger.ts';
import { startLocalRuntime } from '../runtime.ts';
import { generateSampleProfiles } from '../sample-data.ts';
import { sampleRefreshSegments } from '../sample-refresh.ts';
import { removeServeState, SERVE_STATE_PATH, writeServeState } from '../serve-state.ts';
import { dropAndArrive } from './refresh-steps.ts';

/** How long stopping waits for the local services (a sender mid-batch, DynamoDB Local) before giving up. */
const STOP_WAIT_MS = 15_000;

/** The stand-in's key for local connections: fixed, so the README's curl examples work as written. */
export const LOCAL_STANDIN_KEY = 'standin-local-0123456789abcdef';
/** The Ortto stand-in's key (an account in the global region), for trying an Ortto connection. */
export const LOCAL_ORTTO_KEY = 'ortto-local-0123456789abcdef';

const OptionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8787),
  profiles: z.coerce.number().int().min(10).max(200_000).default(3000),
  rate: z.coerce.number().positive().max(1000).default(100),
  concurrency: z.coerce.number().int().min(1).max(32).default(4),
});

const HELP = `npm run serve — the management API on this machine, backed by the local runtime

  npm run serve [-- --port 8787] [--profiles 3000] [--rate 100] [--concurrency 4]

Dev tokens (send as "Authorization: Bearer <token>"): ${Object.keys(DEV_TOKENS).join(', ')}
`;

const main = async (): Promise<void> => {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        profiles: { type: 'string' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    process.stderr.write(`npm run serve: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const parsed = OptionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`npm run serve: --${String(issue?.path[0])}: ${issue?.message}\n`);
    process.exit(2);
  }
  const options = parsed.data;
  const logPath = `.local-data/logs/serve-${new Date().toISOString().replaceAll(':', '-')}.jsonl`;
  // Before the services start, so a console that does not build leaves nothing running.
  console.log('Building the web console…');
  const built = await buildConsole();
  for (const line of formatConsoleBuild(built)) console.log(line);
  console.log('Starting DynamoDB Local, the SQS and S3 emulator and the Autopilot and Ortto stand-ins…');
  const runtime = await startLocalRuntime({
    autopilot: { kind: 'standin', ratePerSecond: options.rate, apiKey: LOCAL_STANDIN_KEY },
    // Ortto's lowest plan allows 10 requests/s; the stand-in enforces the same.
    ortto: { apiKey: LOCAL_ORTTO_KEY, standIn: { ratePerSecond: Math.min(options.rate, 10) } },
    senders: options.concurrency,
    logger: new FileLogger(logPath),
    segments: 's3',
  }).catch((error: unknown) => {
    if (error instanceof JavaMissingError) {
      process.stderr.write(`npm run serve: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  });
  const dataset = generateSampleProfiles({ profiles: options.profiles, seed: 42 });
  // The samples arrive as any refresh does: dropped into the segment bucket, manifest last.
  const seeded = await dropAndArrive(runtime, sampleRefreshSegments(dataset));
  if (!seeded.ok) {
    await runtime.close();
    throw new Error(`the sample refresh was not accepted: ${seeded.line}`);
  }
  const endpoint = runtime.s3Endpoint ?? '';
  const bucket = runtime.segmentBucket ?? '';
  await writeServeState({ endpoint, bucket, pid: process.pid });
  const server = await startLocalApiServer(runtime, options.port, { consoleDir: built.outdir });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const segments = await runtime.segments.listSegments();
  console.log(`
Console: http://127.0.0.1:${port}   (sign in as a dev user)
autopilot-export API on http://127.0.0.1:${port}   (OpenAPI: http://127.0.0.1:${port}/openapi.json)

  Dev tokens (Authorization: Bearer <token>): ${Object.keys(DEV_TOKENS)
    .filter((t) => t !== 'dev-nobody')
    .join(', ')}
  Autopilot stand-in: ${runtime.autopilotUrl}  (rate limit ${options.rate}/s)
    API key to use for a new connection: ${LOCAL_STANDIN_KEY}
  Ortto stand-in: ${runtime.ortto?.standIn.url ?? 'not started'}  (rate limit ${Math.min(options.rate, 10)}/s)
    API key for a new Ortto connection (region global): ${LOCAL_ORTTO_KEY}
  Segments: ${segments.map((s) => `${s.id} (${s.profiles.toLocaleString('en-US')})`).join(' · ')}
    from the sample refresh ${seeded.refreshId}, dropped at start
  Local S3: ${endpoint}   bucket ${bucket}   (refreshes/<refreshId>/…, manifest.json last)
    Every refresh dropped there starts the scheduled exports using its segments.
  Logs: ${logPath}

Try:  curl -s http://127.0.0.1:${port}/segments -H 'Authorization: Bearer dev-viewer'
Drop a refresh of your own segment files (.csv, .csv.gz, .jsonl, .jsonl.gz, .parquet; one file per segment):
      npm run drop -- --dir ./my-segments
      (the same as: npm run drop -- --dir ./my-segments --endpoint ${endpoint} --bucket ${bucket};
       the defaults come from ${SERVE_STATE_PATH}, written while this runs)
Stop with Ctrl-C.`);
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    // A second signal means "now": the services may not get to clean up.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping the API and the local services…`);
    server.closeAllConnections();
    server.close();
    await removeServeState();
    const closed = await Promise.race([
      runtime.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, STOP_WAIT_MS, false).unref()),
    ]);
    if (!closed) process.stderr.write(`Some local services did not stop within ${STOP_WAIT_MS / 1000} s.\n`);
    process.exit(closed ? 0 : 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  process.stderr.write(`npm run serve failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
