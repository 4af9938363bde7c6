import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import type { ExportRecord, RunRecord } from '#lib/ports/state-store.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/manage-connections.ts';
import { invokeLocalApi } from '../api-gateway.ts';
import { JavaMissingError } from '../dynamodb-local.ts';
import { FileLogger } from '../file-logger.ts';
import { type LocalRuntime, startLocalRuntime } from '../runtime.ts';
import {
  applyChurn,
  generateSampleProfiles,
  SAMPLE_DATA_MATCHING,
  seedDynamoDbSegments,
  syncDynamoDbSegments,
} from '../sample-data.ts';
import { verifyAgainstAutopilot } from '../verify.ts';
import { progressLine, summarise } from './report.ts';

const HELP = `npm start — run the real export pipeline on this machine

  npm start [-- options]

Options:
  --profiles N          sample profiles to seed (default 3000)
  --mode list|field     Autopilot membership: one list per segment, or a boolean field per segment (default list)
  --rate R              request-rate budget per second (default 100; Autopilot's documented limit is 5)
  --concurrency C       concurrent sender workers (default 4)
  --bulk-list-membership ignore|honour
                        how the Autopilot stand-in treats lists in bulk upserts (default ignore)
  --autopilot-url URL   export into a real Autopilot account (key from AUTOPILOT_API_KEY) instead of the stand-in
  --seed N              sample data seed (default 42)
  --help                show this help
`;

const OptionsSchema = z.object({
  profiles: z.coerce.number().int().min(10).max(200_000).default(3000),
  mode: z.enum(['list', 'field']).default('list'),
  rate: z.coerce.number().positive().max(1000).default(100),
  concurrency: z.coerce.number().int().min(1).max(32).default(4),
  'bulk-list-membership': z.enum(['ignore', 'honour']).default('ignore'),
  'autopilot-url': z.url().optional(),
  seed: z.coerce.number().int().default(42),
});

const fail = (message: string): never => {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
};

const parseOptions = (): z.infer<typeof OptionsSchema> => {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      options: {
        profiles: { type: 'string' },
        mode: { type: 'string' },
        rate: { type: 'string' },
        concurrency: { type: 'string' },
        'bulk-list-membership': { type: 'string' },
        'autopilot-url': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const parsed = OptionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`--${String(issue?.path[0])}: ${issue?.message}`);
  }
  return parsed.data;
};

const watch = async (runtime: LocalRuntime, runId: string): Promise<RunRecord> => {
  const started = Date.now();
  const tty = process.stdout.isTTY === true;
  let lastPrint = 0;
  const run = await runtime.waitForRun(runId, {
    onProgress: (r) => {
      const line = progressLine(r, started);
      if (tty) process.stdout.write(`\r${line}\x1b[K`);
      else if (Date.now() - lastPrint > 5000) {
        process.stdout.write(`${line}\n`);
        lastPrint = Date.now();
      }
    },
  });
  if (tty) process.stdout.write(`\r${progressLine(run, started)}\x1b[K\n`);
  return run;
};

const main = async (): Promise<void> => {
  const options = parseOptions();
  const real = options['autopilot-url'];
  const realKey = process.env.AUTOPILOT_API_KEY;
  if (real && !realKey)
    fail('--autopilot-url needs the API key in the AUTOPILOT_API_KEY environment variable.');
  const t0 = Date.now();
  const logDir = join('.local-data', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `start-${new Date().toISOString().replaceAll(':', '-')}.jsonl`);
  const logger = new FileLogger(logPath, { echo: () => {} });

  console.log('autopilot-export — local run of the real pipeline');
  if (real) {
    console.log(`\n  ⚠ Exporting into the REAL Autopilot account at ${real}.`);
    console.log('    Sample contacts will be created there and lists named after the sample segments.');
    console.log(`    Keep --rate at or below your account's limit (documented: 5 requests/s).\n`);
  }
  console.log('  Starting DynamoDB Local, the SQS emulator and the Autopilot stand-in…');
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      autopilot:
        real && realKey
          ? { kind: 'real', url: real, apiKey: realKey }
          : {
              kind: 'standin',
              ratePerSecond: options.rate,
              standIn: { bulkListMembership: options['bulk-list-membership'], seed: options.seed },
            },
      senders: options.concurrency,
      logger,
    });
  } catch (error) {
    if (error instanceof JavaMissingError) fail(error.message);
    throw error;
  }
  const stop = async () => {
    await runtime.close();
  };
  process.once('SIGINT', () => {
    void stop().then(() => process.exit(130));
  });

  try {
    console.log(
      `  Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Autopilot: ${real ? real : `${runtime.autopilotUrl} (stand-in)`}`,
    );
    console.log(`  Structured logs: ${logPath}\n`);

    const dataset = generateSampleProfiles({ profiles: options.profiles, seed: options.seed });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const segments = await runtime.segments.listSegments();
    console.log(
      `Seeded ${dataset.profiles.length.toLocaleString('en-US')} profiles in ${segments.length} segments: ${segments
        .map((s) => `${s.name} (${s.profiles.toLocaleString('en-US')})`)
        .join(', ')}`,
    );

    // Everything below goes through the management API, as an admin would use it.
    const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = await invokeLocalApi(runtime, {
        method,
        url,
        headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${res.body}`);
      return JSON.parse(res.body) as T;
    };
    const connection = await api<{ id: string; displayName: string; ratePerSecond: number }>(
      'POST',
      '/connections',
      {
        displayName: real ? 'Autopilot (your account)' : 'Autopilot stand-in',
        apiKey: runtime.apiKey,
        consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
        ratePerSecond: real ? Math.min(options.rate, 5) : options.rate,
      },
    );
    const exp = await api<ExportRecord>('POST', '/exports', {
      name: 'Sample segments to Autopilot',
      connectionId: connection.id,
      segmentIds: segments.map((s) => s.id),
      membership: options.mode,
      dataMatching: SAMPLE_DATA_MATCHING,
    });
    console.log(
      `Created connection "${connection.displayName}" (budget ${connection.ratePerSecond} requests/s) and export "${exp.name}" (${exp.membership} mode).\n`,
    );

    const runOnce = async (title: string): Promise<RunRecord> => {
      console.log(`${title}…`);
      const started = await api<{ runId: string }>('POST', `/exports/${exp.id}/runs`);
      const run = await watch(runtime, started.runId);
      console.log(`\n${summarise(run, title)}\n`);
      return run;
    };

    const first = await runOnce('Run 1: first export');
    const churn = applyChurn(dataset, { fraction: 0.01, seed: options.seed + 1 });
    await syncDynamoDbSegments(runtime.segmentWriter, dataset, churn.dataset);
    const s = churn.summary;
    console.log(
      `Changed ~1% of profiles: ${s.edited.length} edited, ${s.newProfiles.length} new, ${s.joinedSegment.length} joined a segment, ${s.leftSegment.length} left a segment, ${s.leftAll.length} left every segment.\n`,
    );
    const second = await runOnce('Run 2: after 1% churn');

    const lists = [];
    for (const segment of segments) {
      const title = listTitle(exp, segment);
      const mapping = await runtime.store.getList(connection.id, title);
      lists.push({
        segmentId: segment.id,
        name: segment.name,
        field: membershipFieldName(exp, segment),
        ...(mapping && 'listId' in mapping ? { listId: mapping.listId } : {}),
      });
    }
    const checks = await verifyAgainstAutopilot({
      baseUrl: runtime.autopilotUrl,
      apiKey: runtime.apiKey,
      dataset: churn.dataset,
      mode: options.mode,
      lists,
    });
    const ok = checks.every((c) => c.missing === 0 && c.extra === 0);
    const what = options.mode === 'list' ? 'list' : 'membership field';
    console.log(
      `${ok ? '✔' : '✘'} Verification: ${ok ? `every Autopilot ${what} equals its segment` : `Autopilot ${what}s differ from their segments`} — ${checks
        .map(
          (c) =>
            `${c.segment}: ${c.actual.toLocaleString('en-US')}/${c.expected.toLocaleString('en-US')}${c.missing || c.extra ? ` (${c.missing} missing, ${c.extra} extra)` : ''}`,
        )
        .join(' · ')}`,
    );
    const requests = (r: RunRecord) => Object.values(r.progress.requests).reduce((a, b) => a + b, 0);
    console.log(
      `  The re-run needed ${requests(second).toLocaleString('en-US')} requests, ${((requests(second) / Math.max(1, requests(first))) * 100).toFixed(1)}% of the first export's ${requests(first).toLocaleString('en-US')}. Total time ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
    );
    process.exitCode = ok && first.status === 'succeeded' && second.status === 'succeeded' ? 0 : 1;
  } finally {
    await stop();
  }
};

main().catch((error) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
