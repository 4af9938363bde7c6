import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { AUTOPILOT_DOCUMENTED_RATE } from '#lib/adapters/autopilot/cost-model.ts';
import { DynamoDbRateBudget } from '#lib/adapters/dynamodb/rate-budget.ts';
import { listTitle, membershipFieldName, membershipTagName } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { invokeLocalApi } from '../api-gateway.ts';
import { flagsTakenByNpm, numberFlag, oneOf, parseFlags, UsageError } from '../autopilot-standin/cli-args.ts';
import {
  describeFaults,
  FAULT_FLAG_NAMES,
  FAULT_FLAGS,
  FAULT_FLAGS_HELP,
  parseFaultFlags,
} from '../autopilot-standin/fault-flags.ts';
import type { FaultOptions } from '../autopilot-standin/index.ts';
import { JavaMissingError } from '../dynamodb-local.ts';
import { FileLogger } from '../file-logger.ts';
import { type LocalRuntime, startLocalRuntime } from '../runtime.ts';
import { applyChurn, generateSampleProfiles, SAMPLE_DATA_MATCHING } from '../sample-data.ts';
import { sampleRefreshSegments } from '../sample-refresh.ts';
import { checksPass, verifyAgainstAutopilot } from '../verify.ts';
import { withMassLeave } from './mass-leave.ts';
import { ORTTO, unsubscribeSome, verifyOrtto } from './ortto-steps.ts';
import { dropAndArrive } from './refresh-steps.ts';
import { faultSummary, progressLine, summarise, verificationLine } from './report.ts';

/**
 * A run whose progress has not moved for this long is given up on (and cancelled): longer than a
 * failed plan message's redelivery delay (the planner's timeout + 5 s, 305 s locally).
 */
const STALL_MS = 10 * 60_000;

export const HELP = `npm start — run the real export pipeline on this machine

  npm start -- [options]      (through npm, options go after "--")

Options:
  --profiles N          sample profiles to seed, 10-200000 (default 3000)
  --destination autopilot|ortto
                        export into the Autopilot stand-in (default) or the Ortto stand-in, where membership
                        is one tag per segment
  --mode list|field     Autopilot membership: one list per segment, or a boolean field per segment (default list)
  --rate R              request budget per second, 0.1-1000 (default 100 against the stand-in, which then
                        enforces the same rate; 5 with --autopilot-url, Autopilot's documented limit)
  --concurrency C       concurrent sender workers, 1-32 (default 4)
  --bulk-list-membership ignore|honour
                        stand-in, list mode: whether bulk upserts honour the list (default ignore)
  --autopilot-url URL   export into a real Autopilot account (key from AUTOPILOT_API_KEY) instead of the stand-in
  --seed N              sample data seed, also the seed of the stand-in's fault dice (default 42)
  --help                show this help

The stand-in's fault switches (not with --autopilot-url) watch the pipeline survive faults. They switch
on when the first run starts (times count from there) and off before the final verification.
${FAULT_FLAGS_HELP}`;

export const START_FLAGS = {
  profiles: { type: 'string' },
  destination: { type: 'string' },
  mode: { type: 'string' },
  rate: { type: 'string' },
  concurrency: { type: 'string' },
  'bulk-list-membership': { type: 'string' },
  'autopilot-url': { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export interface StartOptions {
  profiles: number;
  destination: 'autopilot' | 'ortto';
  /** `tag` exactly when the destination is Ortto. */
  mode: 'list' | 'field' | 'tag';
  rate: number;
  concurrency: number;
  bulkListMembership: 'ignore' | 'honour';
  autopilot: { kind: 'standin' } | { kind: 'real'; url: string; apiKey: string };
  seed: number;
  faults?: FaultOptions;
  /** What the run does differently from what a reader of the flags might assume; printed first. */
  notes: string[];
}

const httpUrl = (raw: string): string => {
  let url: URL | undefined;
  try {
    url = raw.length <= 2_000 ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--autopilot-url: "${raw.slice(0, 80)}" is not an http(s) URL.`);
  }
  return raw;
};

/**
 * Every flag is honoured exactly or refused (UsageError, naming it): none is overridden, ignored
 * or reinterpreted in silence.
 */
export const parseStartOptions = (argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions => {
  const v = parseFlags(argv, { ...START_FLAGS, ...FAULT_FLAGS }, 'start');
  const taken = flagsTakenByNpm([...Object.keys(START_FLAGS), ...FAULT_FLAG_NAMES], env).filter(
    (name) => name !== 'help',
  );
  if (taken[0] !== undefined) {
    throw new UsageError(
      `--${taken[0]}: npm kept this flag for itself and it never reached npm start; put flags after "--" (npm start -- --${taken[0]} …).`,
    );
  }
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  const given = (flag: string): boolean => v[flag] !== undefined;
  const notes: string[] = [];
  const url = str('autopilot-url');
  const realKey = env.AUTOPILOT_API_KEY?.trim();
  let autopilot: StartOptions['autopilot'] = { kind: 'standin' };
  if (url !== undefined) {
    if (!realKey)
      throw new UsageError(
        '--autopilot-url: needs the API key in the AUTOPILOT_API_KEY environment variable.',
      );
    autopilot = { kind: 'real', url: httpUrl(url), apiKey: realKey };
    for (const flag of ['bulk-list-membership', ...FAULT_FLAG_NAMES]) {
      if (given(flag)) {
        throw new UsageError(
          `--${flag}: a switch of the local stand-in; it cannot be used with --autopilot-url.`,
        );
      }
    }
  } else if (realKey) {
    notes.push(
      'AUTOPILOT_API_KEY is set but --autopilot-url is not: exporting into the local stand-in; the key is not used.',
    );
  }
  const destination =
    str('destination') === undefined
      ? 'autopilot'
      : oneOf('destination', str('destination') ?? '', ['autopilot', 'ortto']);
  if (destination === 'ortto') {
    for (const flag of ['mode', 'bulk-list-membership', 'autopilot-url', ...FAULT_FLAG_NAMES]) {
      if (given(flag)) {
        throw new UsageError(
          `--${flag}: an Autopilot option; with --destination ortto membership is one tag per segment and the Ortto stand-in's faults are set through npm run fake-ortto.`,
        );
      }
    }
  }
  const mode =
    destination === 'ortto'
      ? 'tag'
      : str('mode') === undefined
        ? 'list'
        : oneOf('mode', str('mode') ?? '', ['list', 'field']);
  if (mode === 'field' && given('bulk-list-membership')) {
    throw new UsageError('--bulk-list-membership: only matters in list mode (--mode list).');
  }
  const rawRate = str('rate');
  const rate =
    rawRate === undefined
      ? autopilot.kind === 'real'
        ? AUTOPILOT_DOCUMENTED_RATE
        : 100
      : numberFlag('rate', rawRate, { min: 0.1, max: 1000 });
  if (autopilot.kind === 'real' && rate > AUTOPILOT_DOCUMENTED_RATE) {
    notes.push(
      `--rate ${rate} is above Autopilot's documented ${AUTOPILOT_DOCUMENTED_RATE} requests/s; running at ${rate}/s as asked. Keep it at or below your account's limit: requests beyond it are answered 429 and slow every sender down.`,
    );
  }
  const bulk = str('bulk-list-membership');
  const faults = parseFaultFlags(v);
  return {
    profiles: given('profiles')
      ? numberFlag('profiles', str('profiles') ?? '', { min: 10, max: 200_000, integer: true })
      : 3000,
    destination,
    mode,
    rate,
    concurrency: given('concurrency')
      ? numberFlag('concurrency', str('concurrency') ?? '', { min: 1, max: 32, integer: true })
      : 4,
    bulkListMembership:
      bulk === undefined ? 'ignore' : oneOf('bulk-list-membership', bulk, ['ignore', 'honour']),
    autopilot,
    seed: given('seed')
      ? numberFlag('seed', str('seed') ?? '', { min: -(2 ** 31), max: 2 ** 32, integer: true })
      : 42,
    ...(faults === undefined ? {} : { faults }),
    notes,
  };
};

const requestsOf = (r: RunRecord): number => Object.values(r.progress.requests).reduce((a, b) => a + b, 0);

/** Share of the largest segment's members the churn step makes leave at once, to show the guardrail. */
const MASS_LEAVE_FRACTION = 0.3;

/** Follows a run until it ends or waits for approval, or until its progress has not moved for STALL_MS. */
const watch = async (runtime: LocalRuntime, runId: string): Promise<RunRecord> => {
  const started = Date.now();
  const tty = process.stdout.isTTY === true;
  let lastPrint = 0;
  let signature = '';
  let movedAt = Date.now();
  for (;;) {
    const run = await runtime.state.runs.get(runId);
    if (run === undefined) throw new Error(`Run ${runId} does not exist`);
    const line = progressLine(run, started);
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else if (Date.now() - lastPrint > 5000) {
      process.stdout.write(`${line}\n`);
      lastPrint = Date.now();
    }
    const now = `${run.status}|${run.progress.batchesDone}|${requestsOf(run)}`;
    if (now !== signature) {
      signature = now;
      movedAt = Date.now();
    }
    const waits = run.status === 'awaiting_approval';
    if (isTerminal(run.status) || waits || Date.now() - movedAt > STALL_MS) {
      if (tty) process.stdout.write('\n');
      return run;
    }
    await sleep(250);
  }
};

/** What a held run would remove, per target, in the words the console uses. */
const heldLines = (run: RunRecord): string[] => [
  `  ⏸ Held by the removal guardrail: ${(run.hold?.removals ?? 0).toLocaleString('en-US')} removals await an admin; joins and updates were sent, nothing removed yet.`,
  ...(run.hold?.targets ?? []).map(
    (t) =>
      `    ${t.target}: ${t.removals.toLocaleString('en-US')} of ${t.members.toLocaleString('en-US')} members${t.exceeds ? ' (over the threshold)' : ''}`,
  ),
];

const run = async (options: StartOptions): Promise<void> => {
  const real = options.autopilot.kind === 'real' ? options.autopilot : undefined;
  const t0 = Date.now();
  const logDir = join('.local-data', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `start-${new Date().toISOString().replaceAll(':', '-')}.jsonl`);
  const logger = new FileLogger(logPath, { echo: () => {} });

  console.log('autopilot-export — local run of the real pipeline');
  for (const note of options.notes) console.log(`  Note: ${note}`);
  if (real) {
    console.log(`\n  ⚠ Exporting into the REAL Autopilot account at ${real.url}.`);
    console.log('    Sample contacts will be created there and lists named after the sample segments.');
    console.log(`    Keep --rate at or below your account's limit (documented: 5 requests/s).\n`);
  }
  console.log('  Starting DynamoDB Local, the SQS and S3 emulator and the Autopilot stand-in…');
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      autopilot: real
        ? { kind: 'real', url: real.url, apiKey: real.apiKey }
        : {
            kind: 'standin',
            ratePerSecond: options.rate,
            standIn: { bulkListMembership: options.bulkListMembership, seed: options.seed },
          },
      ...(options.destination === 'ortto'
        ? { ortto: { standIn: { ratePerSecond: options.rate, seed: options.seed } } }
        : {}),
      senders: options.concurrency,
      logger,
      segments: 's3',
    });
  } catch (error) {
    if (error instanceof JavaMissingError) throw new UsageError(error.message);
    throw error;
  }
  process.once('SIGINT', () => {
    void runtime.close().then(() => process.exit(130));
  });

  try {
    console.log(
      runtime.ortto
        ? `  Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Ortto: ${runtime.ortto.standIn.url} (stand-in)`
        : `  Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Autopilot: ${real ? real.url : `${runtime.autopilotUrl} (stand-in)`}`,
    );
    if (options.faults)
      console.log(`  Stand-in faults from the first run on: ${describeFaults(options.faults)}`);
    console.log(`  Structured logs: ${logPath}\n`);

    // Segments arrive as in the cloud: a refresh folder dropped into the segment bucket, whose
    // manifest's arrival the planner handles. The first one makes the segments known.
    const dataset = generateSampleProfiles({ profiles: options.profiles, seed: options.seed });
    const sample = sampleRefreshSegments(dataset);
    console.log(`Dropping the sample segments into s3://${runtime.segmentBucket}/refreshes/ (the local S3)…`);
    const known = await dropAndArrive(runtime, sample);
    console.log(`  ${known.line}`);
    if (!known.ok) throw new Error(`the sample refresh was not accepted: ${known.line}`);
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
        ...(runtime.ortto
          ? { displayName: 'Ortto stand-in', type: 'ortto', region: 'global', apiKey: runtime.ortto.apiKey }
          : {
              displayName: real ? 'Autopilot (your account)' : 'Autopilot stand-in',
              apiKey: runtime.apiKey,
            }),
        consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
        ratePerSecond: options.rate,
      },
    );
    const exp = await api<ExportRecord>('POST', '/exports', {
      name: `Sample segments to ${runtime.ortto ? 'Ortto' : 'Autopilot'}`,
      connectionId: connection.id,
      segmentIds: segments.map((s) => s.id),
      membership: options.mode,
      dataMatching: SAMPLE_DATA_MATCHING,
    });
    console.log(
      `Created connection "${connection.displayName}" (budget ${connection.ratePerSecond} requests/s) and export "${exp.name}" (${exp.membership} mode, ${exp.scheduled ? 'scheduled: every refresh of its segments runs it' : 'not scheduled'}).\n`,
    );

    /** Each run is started by a refresh's arrival, as the platform's next scheduled refresh would. */
    const runOnce = async (title: string, refresh: typeof sample): Promise<RunRecord | undefined> => {
      console.log(`${title}: dropping a new refresh…`);
      const step = await dropAndArrive(runtime, refresh, exp.id);
      console.log(`  ${step.line}`);
      if (!step.ok || step.run === undefined) {
        console.log('');
        return undefined;
      }
      const runId = step.run.id;
      let record = await watch(runtime, runId);
      if (record.status === 'awaiting_approval') {
        for (const line of heldLines(record)) console.log(line);
        // As an admin would from the console: the same API route, the same use case.
        await api('POST', `/runs/${runId}/approve`);
        console.log(`  Approved as an admin (POST /runs/${runId}/approve): sending the held removals.`);
        record = await watch(runtime, runId);
      }
      if (!isTerminal(record.status)) {
        console.log(
          `  No progress for ${STALL_MS / 60_000} min (still ${record.status}): cancelling the run.`,
        );
        await api('POST', `/runs/${runId}/cancel`).catch((error: unknown) => {
          console.log(`  Cancel refused: ${(error as Error).message}`);
        });
        record = (await runtime.state.runs.get(runId)) ?? record;
      }
      console.log(`\n${summarise(record, title, runtime.ortto ? ORTTO : undefined)}\n`);
      return record;
    };

    runtime.standIn?.setFaults(options.faults);
    const first = await runOnce('Run 1: first export', sample);
    const churned = applyChurn(dataset, { fraction: 0.01, seed: options.seed + 1 });
    const s = churned.summary;
    console.log(
      `Changed ~1% of profiles: ${s.edited.length} edited, ${s.newProfiles.length} new, ${s.joinedSegment.length} joined a segment, ${s.leftSegment.length} left a segment, ${s.leftAll.length} left every segment.`,
    );
    // A deliberate mass leave, as when an upstream segment comes back partly empty by mistake.
    const largest = [...segments].sort((a, b) => b.profiles - a.profiles)[0];
    const leave = largest
      ? withMassLeave(churned.dataset, largest.id, Math.ceil(largest.profiles * MASS_LEAVE_FRACTION))
      : { dataset: churned.dataset, left: 0 };
    const churn = { dataset: leave.dataset };
    if (largest) {
      console.log(
        `Then ${leave.left.toLocaleString('en-US')} members (${MASS_LEAVE_FRACTION * 100}%) left "${largest.name}" at once: more than 10% of its list and ${leave.left > 100 ? 'more than 100 contacts, so the removal guardrail holds the run for an admin' : 'not more than 100 contacts, so no hold (more --profiles shows the guardrail)'}.\n`,
      );
    }
    const orttoRuntime = runtime.ortto ? { ...runtime, ortto: runtime.ortto } : undefined;
    const consent = orttoRuntime ? unsubscribeSome(orttoRuntime, dataset, s.edited) : undefined;
    if (consent)
      console.log(
        `${consent.unsubscribed} people whose profiles changed unsubscribed in Ortto before the re-run; it must not re-subscribe them.\n`,
      );
    const second = await runOnce(
      'Run 2: after 1% churn and a mass leave',
      sampleRefreshSegments(churn.dataset),
    );
    if (runtime.standIn && options.faults) {
      console.log(`Stand-in faults injected: ${faultSummary(runtime.standIn.faultCounts())}`);
      runtime.standIn.setFaults(undefined);
      console.log('Faults switched off for the verification.\n');
    }

    if (orttoRuntime && consent) {
      let orttoOk = false;
      try {
        orttoOk = await verifyOrtto(orttoRuntime, {
          dataset: second === undefined ? dataset : churn.dataset,
          tags: segments.map((segment) => ({
            segmentId: segment.id,
            name: segment.name,
            tag: membershipTagName(exp, segment),
          })),
          consentBefore: consent.consentBefore,
          connection,
        });
      } catch (error) {
        console.log(`✘ Verification: could not read Ortto back — ${(error as Error).message}`);
      }
      if (first?.status === 'succeeded' && second) {
        console.log(
          `  The re-run needed ${requestsOf(second).toLocaleString('en-US')} requests, ${((requestsOf(second) / Math.max(1, requestsOf(first))) * 100).toFixed(1)}% of the first export's ${requestsOf(first).toLocaleString('en-US')}. Total time ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
        );
      }
      process.exitCode = orttoOk && first?.status === 'succeeded' && second?.status === 'succeeded' ? 0 : 1;
      return;
    }
    const mode = options.mode === 'tag' ? 'field' : options.mode; // tag mode returned above
    const lists = [];
    for (const segment of segments) {
      const title = listTitle(exp, segment);
      const mapping = await runtime.state.lists.get(connection.id, title);
      lists.push({
        segmentId: segment.id,
        name: segment.name,
        title,
        field: membershipFieldName(exp, segment),
        ...(mapping && 'listId' in mapping ? { listId: mapping.listId } : {}),
      });
    }
    let ok = false;
    try {
      const verified = await verifyAgainstAutopilot({
        baseUrl: runtime.autopilotUrl,
        apiKey: runtime.apiKey,
        // What Autopilot should hold: the churned segments once the second run got going.
        dataset: second === undefined ? dataset : churn.dataset,
        mode,
        lists,
        pacing: {
          rateBudget: new DynamoDbRateBudget({
            client: runtime.dynamo,
            tableName: runtime.env.sender.STATE_TABLE,
          }),
          connectionId: connection.id,
          ratePerSecond: connection.ratePerSecond,
        },
      });
      ok = checksPass(verified.checks);
      console.log(verificationLine(verified.checks, options.mode, verified.requests));
    } catch (error) {
      console.log(`✘ Verification: could not read Autopilot back — ${(error as Error).message}`);
    }
    // The ratio only means something when the first run exported everything.
    if (first?.status === 'succeeded' && second) {
      console.log(
        `  The re-run needed ${requestsOf(second).toLocaleString('en-US')} requests, ${((requestsOf(second) / Math.max(1, requestsOf(first))) * 100).toFixed(1)}% of the first export's ${requestsOf(first).toLocaleString('en-US')}. Total time ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
      );
    }
    process.exitCode = ok && first?.status === 'succeeded' && second?.status === 'succeeded' ? 0 : 1;
  } finally {
    await runtime.close();
  }
};

const main = async (argv: string[]): Promise<void> => {
  if (argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  try {
    await run(parseStartOptions(argv, process.env));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`npm start: ${error.message}\n\nnpm start -- --help lists every option.\n`);
    process.exit(2);
  }
};

// Run only as a program, so tests can import parseStartOptions.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
