/**
 * Bundle size and cold initialisation of each Lambda function (docs/architecture.md#measurements).
 *
 *   npx tsx bench/bundles.ts [--samples 9] [--out bench/results/bundles.json]
 *
 * Bundles every function exactly as the stack does (cdk/constructs/bundling.ts: same esbuild
 * options, AWS SDK v3 external because the Lambda runtime provides it) into bench/.tmp/ inside the
 * repository, so the external `@aws-sdk/*` imports resolve from its node_modules as they would from
 * the runtime's. Cold initialisation: a fresh `node` process per sample, with the environment the
 * stack gives the function (dummy values, `NODE_OPTIONS=--enable-source-maps` as deployed), times
 * `await import(bundle)` — env parsed, clients constructed, handler created; network refused and
 * counted. For comparison only (not what deploys) it also builds and times each function with the
 * SDK bundled in, and as a CommonJS bundle. Figures, not assertions.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import {
  esbuildBuildOptions,
  FUNCTION_ENTRIES,
  FUNCTION_HANDLERS,
  type FunctionName,
  REPO_ROOT,
} from '../cdk/constructs/bundling.ts';
import { houseEnvironment } from '../cdk/constructs/house-function.ts';
import { BENCH_TMP, bundleWorker, ESM_REQUIRE_BANNER } from './lib/bundle-worker.ts';
import { lastJsonLine, runChild } from './lib/child.ts';
import type { InitProbeReport } from './lib/init-probe.ts';
import { machineInfo } from './lib/machine.ts';
import { median, percentile, round } from './lib/stats.ts';

const TARGETS = { bundleKB: 600, coldInitMs: 300 } as const;
const KB = 1024;

/** What the stack sets (cdk/stacks/stateless-stack.ts), with dummy but valid values. */
const FUNCTION_ENV: Record<FunctionName, Record<string, string>> = {
  planner: {
    SEGMENT_SOURCE: 'dynamodb',
    SEGMENT_TABLE: 'bench-segments',
    NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:bench-runs',
    PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-plan',
    SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-send',
  },
  sender: {
    NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:bench-runs',
    SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-send',
    SEND_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-send-dlq',
    SENDER_PARALLELISM: '5',
  },
  api: {
    SEGMENT_SOURCE: 'dynamodb',
    SEGMENT_TABLE: 'bench-segments',
    PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-plan',
    DEFAULT_RATE_PER_SECOND: '5',
  },
  watchdog: {
    NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:bench-runs',
    STALL_AFTER_MINUTES: '30',
  },
};

const COMMON_ENV = {
  STATE_TABLE: 'bench-state',
  SECRET_PREFIX: 'autopilot-export/connections/',
  AUTOPILOT_BASE_URL: 'https://api2.autopilothq.com/v1',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'bench/dummy/secret/key/not/real/0000000000',
  AWS_SESSION_TOKEN: 'bench-dummy-session-token',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  TZ: 'UTC',
};

/** A clean environment per child: nothing inherited from npm, tsx or this shell but PATH and HOME. */
const childEnv = (name: FunctionName, sourceMaps: boolean): NodeJS.ProcessEnv => {
  const house = houseEnvironment('INFO');
  const { NODE_OPTIONS: nodeOptions, ...rest } = house;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...rest,
    ...(sourceMaps && nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...COMMON_ENV,
    ...FUNCTION_ENV[name],
  };
};

type Build = 'deployed' | 'sdkBundled' | 'esm';

interface Variant {
  key: 'asDeployed' | 'noSourceMaps' | 'sdkBundled' | 'esm';
  label: string;
  build: Build;
  sourceMaps: boolean;
}

const VARIANTS: readonly Variant[] = [
  {
    key: 'asDeployed',
    label: 'as deployed: AWS SDK from the runtime, NODE_OPTIONS=--enable-source-maps',
    build: 'deployed',
    sourceMaps: true,
  },
  {
    key: 'noSourceMaps',
    label: 'same bundle without --enable-source-maps',
    build: 'deployed',
    sourceMaps: false,
  },
  {
    key: 'sdkBundled',
    label: 'comparison only, not deployed: AWS SDK bundled in (external: []), with source maps',
    build: 'sdkBundled',
    sourceMaps: true,
  },
  {
    key: 'esm',
    label:
      'comparison only, not deployed: the same options as an ES module (SDK still external, imported as ' +
      'CommonJS through the ESM loader), with source maps',
    build: 'esm',
    sourceMaps: true,
  },
];

interface InitSummary {
  samples: number[];
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  /** Median from process start to handler ready (Node's own start-up included). */
  medianSinceProcessStartMs: number;
  medianRssMB: number;
  networkAttempts: string[];
}

const packageOf = (input: string): string => {
  const last = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)?.at(-1);
  return last ? last.replace('node_modules/', '') : '(project)';
};

const topPackages = (metafile: Metafile): { pkg: string; kb: number }[] => {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = packageOf(input);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([pkg, bytes]) => ({ pkg, kb: round(bytes / KB) }));
};

const OUT_DIRS: Record<Build, string> = {
  deployed: 'bundles',
  sdkBundled: 'bundles-sdk-bundled',
  esm: 'bundles-esm',
};

const bundle = async (name: FunctionName, kind: Build) => {
  const file = kind === 'esm' ? 'index.mjs' : 'index.cjs';
  const outfile = join(BENCH_TMP, OUT_DIRS[kind], name, file);
  mkdirSync(join(outfile, '..'), { recursive: true });
  const options = esbuildBuildOptions(join(REPO_ROOT, FUNCTION_ENTRIES[name]), outfile);
  const variant: BuildOptions =
    kind === 'sdkBundled'
      ? { external: [] }
      : kind === 'esm'
        ? // An ES module needs a `require` for the CommonJS code inside it.
          { format: 'esm', banner: { js: ESM_REQUIRE_BANNER } }
        : {};
  const result = await build({ ...options, ...variant, metafile: true });
  const code = await readFile(outfile);
  return {
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    mapBytes: statSync(`${outfile}.map`).size,
    top: topPackages(result.metafile),
  };
};

/** Fails unless the bundle exports every handler the stack points a function at. */
const checkHandlers = (name: FunctionName, file: string, report: InitProbeReport): void => {
  const missing = FUNCTION_HANDLERS[name].filter((h) => !report.handlers.includes(h));
  if (missing.length > 0)
    throw new Error(`${relative(REPO_ROOT, file)} does not export ${missing.join(', ')}`);
};

const summarise = (reports: InitProbeReport[]): InitSummary => {
  const ms = reports.map((r) => r.importMs);
  return {
    samples: ms,
    medianMs: round(median(ms)),
    p90Ms: round(percentile(ms, 90)),
    minMs: round(Math.min(...ms)),
    maxMs: round(Math.max(...ms)),
    medianSinceProcessStartMs: round(median(reports.map((r) => r.sinceProcessStartMs))),
    medianRssMB: round(median(reports.map((r) => r.rssMB))),
    networkAttempts: [...new Set(reports.flatMap((r) => r.networkAttempts))],
  };
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: '9' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'bundles.json') },
    },
  });
  const samples = Number(values.samples);
  const machine = machineInfo();
  const names = Object.keys(FUNCTION_ENTRIES) as FunctionName[];
  const probe = await bundleWorker('bench/lib/init-probe.ts', join(BENCH_TMP, 'init-probe.mjs'));

  const built = new Map<string, Awaited<ReturnType<typeof bundle>>>();
  for (const name of names) {
    for (const kind of Object.keys(OUT_DIRS) as Build[])
      built.set(`${name}:${kind}`, await bundle(name, kind));
  }
  const bundleOf = (name: FunctionName, kind: Build) => {
    const b = built.get(`${name}:${kind}`);
    if (b === undefined) throw new Error(`${name} was not built`);
    return b;
  };
  const reports = new Map<string, InitProbeReport[]>();
  // Interleaved (sample → function → variant), so drift on the machine spreads over all of them.
  for (let i = 0; i < samples; i++) {
    for (const name of names) {
      for (const v of VARIANTS) {
        const file = bundleOf(name, v.build).outfile;
        const result = await runChild(process.execPath, [probe, file], {
          env: childEnv(name, v.sourceMaps),
          cwd: REPO_ROOT,
        });
        const report = lastJsonLine<InitProbeReport>(result, `${name} (${v.key}) init`);
        if (result.code !== 0) throw new Error(`${name} (${v.key}) did not initialise: ${result.stderr}`);
        checkHandlers(name, file, report);
        const key = `${name}:${v.key}`;
        reports.set(key, [...(reports.get(key) ?? []), report]);
      }
    }
    process.stdout.write(`\rcold-init samples ${i + 1}/${samples}`);
  }
  process.stdout.write('\n\n');

  const functions = names.map((name) => {
    const deployed = bundleOf(name, 'deployed');
    const withSdk = bundleOf(name, 'sdkBundled');
    const esm = bundleOf(name, 'esm');
    const init = Object.fromEntries(
      VARIANTS.map((v) => [v.key, { label: v.label, ...summarise(reports.get(`${name}:${v.key}`) ?? []) }]),
    ) as Record<Variant['key'], InitSummary & { label: string }>;
    return {
      name,
      entry: FUNCTION_ENTRIES[name],
      kb: round(deployed.bytes / KB),
      bytes: deployed.bytes,
      gzipKB: round(deployed.gzipBytes / KB),
      sourceMapKB: round(deployed.mapBytes / KB),
      top: deployed.top,
      coldInit: { asDeployed: init.asDeployed, noSourceMaps: init.noSourceMaps },
      forComparisonSdkBundled: {
        label: 'NOT what deploys: the same function with the AWS SDK v3 bundled in (esbuild external: [])',
        kb: round(withSdk.bytes / KB),
        bytes: withSdk.bytes,
        gzipKB: round(withSdk.gzipBytes / KB),
        top: withSdk.top,
        coldInit: init.sdkBundled,
      },
      forComparisonEsm: {
        label:
          'NOT what deploys: the same esbuild options as an ES module; the ESM loader then scans every ' +
          'CommonJS file of the runtime-provided SDK for its exports at cold start',
        kb: round(esm.bytes / KB),
        bytes: esm.bytes,
        coldInit: init.esm,
      },
      met: {
        bundleKB: deployed.bytes <= TARGETS.bundleKB * KB,
        coldInitMedian: init.asDeployed.medianMs <= TARGETS.coldInitMs,
        coldInitP90: init.asDeployed.p90Ms <= TARGETS.coldInitMs,
      },
    };
  });

  const result = {
    name: 'bundles',
    ...machine,
    samplesPerFunction: samples,
    method:
      'Each function bundled with cdk/constructs/bundling.ts esbuildBuildOptions (as the stack) into bench/.tmp/. ' +
      'kb: minified bundle bytes / 1024 (source map separate). Cold init: fresh `node` per sample with the ' +
      "stack's environment (dummy values) and NODE_OPTIONS=--enable-source-maps as deployed; " +
      'performance.now() around `await import(bundle)`; median and nearest-rank p90; network refused and ' +
      'counted. Lambda runs node24 on arm64; this is Node ' +
      `${process.version} on ${machine.cpu}.`,
    targets: TARGETS,
    functions,
    met: {
      bundleKB: functions.every((f) => f.met.bundleKB),
      coldInitMedian: functions.every((f) => f.met.coldInitMedian),
      coldInitP90: functions.every((f) => f.met.coldInitP90),
    },
  };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);

  console.log(
    `Lambda bundles and cold initialisation (${samples} samples each; ${machine.cpu}, Node ${process.version}, load ${machine.loadAverage})\n`,
  );
  console.log(
    `${'function'.padEnd(9)}${'minified'.padStart(11)}${'gzip'.padStart(10)}${'init median'.padStart(13)}${'p90'.padStart(9)}${'min–max'.padStart(15)}${'no maps'.padStart(10)}   ${'SDK bundled: size'.padStart(18)}${'init'.padStart(9)}   ${'esm: init'.padStart(9)}`,
  );
  for (const f of functions) {
    const d = f.coldInit.asDeployed;
    const c = f.forComparisonSdkBundled;
    console.log(
      `${f.name.padEnd(9)}${`${f.kb} KB`.padStart(11)}${`${f.gzipKB} KB`.padStart(10)}${`${d.medianMs} ms`.padStart(13)}${`${d.p90Ms} ms`.padStart(9)}${`${d.minMs}–${d.maxMs}`.padStart(15)}${`${f.coldInit.noSourceMaps.medianMs} ms`.padStart(10)}   ${`${c.kb} KB`.padStart(18)}${`${c.coldInit.medianMs} ms`.padStart(9)}   ${`${f.forComparisonEsm.coldInit.medianMs} ms`.padStart(9)}`,
    );
    if (d.networkAttempts.length > 0)
      console.log(`         network attempted: ${d.networkAttempts.join(', ')}`);
  }
  console.log(
    `\nTargets: ≤ ${TARGETS.bundleKB} KB minified — ${result.met.bundleKB ? 'met' : 'MISSED'}; cold init ≤ ${TARGETS.coldInitMs} ms — median ${result.met.coldInitMedian ? 'met' : 'MISSED'}, p90 ${result.met.coldInitP90 ? 'met' : 'MISSED'}.`,
  );
  console.log(`Wrote ${relative(process.cwd(), values.out)}`);
};

await main();
