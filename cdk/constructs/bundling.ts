import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * How every function is bundled: one description, projected onto NodejsFunction's options (the
 * stack) and onto esbuild's API (scripts/bundle-report.ts), so the report measures what deploys.
 */

/** The repository root (cdk/constructs/ → ../../). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The newest Node.js runtime aws-cdk-lib 2.276.0 knows. */
export const RUNTIME = Runtime.NODEJS_24_X;
const NODE_TARGET = 'node24';

export const BUNDLE = {
  target: NODE_TARGET,
  /**
   * CommonJS: the AWS SDK the runtime provides is CommonJS, and an ES-module bundle importing it
   * makes Node scan and format-check every SDK file at cold start (bench/bundles.ts, "esm: init":
   * +70 ms on Node 20, +4 ms on Node 24; CommonJS is still the faster on both).
   * Our code needs neither `import.meta` nor top-level await.
   */
  format: 'cjs',
  minify: true,
  /** Maps are for stack traces (`--enable-source-maps`), not for reading code: no sources inside. */
  sourceMap: true,
  sourcesContent: false,
  /** Prefer packages' ESM builds (tree-shakes the AWS SDK v3). */
  mainFields: ['module', 'main'],
  /**
   * The AWS SDK v3 comes from the Lambda Node.js runtime, which ships it: bundled, it is ~400 KB of
   * every function and most of its cold start (bench/: bundle size and init time). We use only
   * long-stable commands of DynamoDB, SQS, SNS, Secrets Manager and S3, so the runtime's version serves.
   */
  external: ['@aws-sdk/*', '@smithy/*'] as string[],
} as const;

/** NodejsFunction `bundling` props for {@link BUNDLE}; local esbuild, never Docker. */
export const nodejsBundlingOptions = (): BundlingOptions => ({
  target: BUNDLE.target,
  format: OutputFormat.CJS,
  minify: BUNDLE.minify,
  sourceMap: BUNDLE.sourceMap,
  sourcesContent: BUNDLE.sourcesContent,
  mainFields: [...BUNDLE.mainFields],
  bundleAwsSDK: false,
  externalModules: [...BUNDLE.external],
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
});

/** esbuild `build()` options for {@link BUNDLE}, as NodejsFunction passes them on its command line. */
export const esbuildBuildOptions = (entry: string, outfile: string): BuildOptions => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: BUNDLE.target,
  format: BUNDLE.format,
  minify: BUNDLE.minify,
  sourcemap: BUNDLE.sourceMap,
  sourcesContent: BUNDLE.sourcesContent,
  mainFields: [...BUNDLE.mainFields],
  external: [...BUNDLE.external],
  absWorkingDir: REPO_ROOT,
  logLevel: 'warning',
});

/** Lambda entry points, by function name (cdk points at them by path and imports none of them). */
export const FUNCTION_ENTRIES = {
  planner: 'functions/planner/index.ts',
  sender: 'functions/sender/index.ts',
  api: 'functions/api/index.ts',
  watchdog: 'functions/watchdog/index.ts',
} as const;
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/**
 * The handlers each entry exports, one per event source: a Lambda function runs one of them
 * (`index.<handler>`). The planner's bundle serves three functions, the plan queue's, the
 * schedule's and the refresh arrival's (S3 events through EventBridge); its `startRun` is for
 * direct invocation (the local runtime).
 */
export const FUNCTION_HANDLERS = {
  planner: ['planMessage', 'scheduledRefresh', 'refreshArrived', 'startRun'],
  sender: ['handler'],
  api: ['handler'],
  watchdog: ['handler'],
} as const satisfies Record<FunctionName, readonly string[]>;
export type HandlerName<N extends FunctionName> = (typeof FUNCTION_HANDLERS)[N][number];

/**
 * NodejsFunction silently falls back to Docker when it cannot find esbuild; there is no Docker
 * here or in CI, so fail early with the fix instead.
 */
export const assertLocalEsbuild = (): void => {
  try {
    createRequire(join(REPO_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed in node_modules (run `npm ci`). Functions are bundled with local esbuild, never Docker.',
    );
  }
};
