/**
 * Cold initialisation of one Lambda bundle, in a fresh process (bench/bundles.ts bundles this file
 * and runs it once per sample): times `await import(bundle)`, which is what Lambda's INIT phase
 * runs for an ESM handler (env parsed, clients constructed, handler created); a `.cjs` bundle is
 * loaded with `require`, as the runtime loads a CommonJS handler. Every outgoing
 * connection or DNS lookup is refused and counted, so a bundle that reaches for the network at
 * start-up shows up instead of hanging. Prints one JSON line.
 *
 *   node init-probe.mjs /abs/path/to/index.mjs
 */
import dns from 'node:dns';
import { createRequire } from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export interface InitProbeReport {
  /** `await import(bundle)` (or `require` of a `.cjs` bundle) wall time. */
  importMs: number;
  /** From process start (performance.timeOrigin) to the handler being ready. */
  sinceProcessStartMs: number;
  /** The bundle's exported functions: the handler names a function may point at. */
  handlers: string[];
  networkAttempts: string[];
  rssMB: number;
  heapUsedMB: number;
  /** CPU (user + system) from process start to the handler being ready: what a CPU share slows. */
  cpuMs: number;
  /** CPU (user + system) of the import alone. */
  importCpuMs: number;
  /** Peak resident set size so far (getrusage maxrss). */
  maxRssMB: number;
}

const attempts: string[] = [];
const refuse = (what: string): Error => {
  attempts.push(what);
  return new Error(`init-probe: network refused (${what})`);
};
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]): net.Socket {
  const target = args[0] as { host?: string; port?: number; path?: string } | number | string;
  const where =
    typeof target === 'object' ? `${target.host ?? target.path}:${target.port ?? ''}` : String(target);
  const error = refuse(`connect ${where}`);
  process.nextTick(() => this.destroy(error));
  return this;
} as typeof net.Socket.prototype.connect;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  const callback = rest.at(-1) as (e: Error) => void;
  const error = refuse(`dns ${hostname}`);
  process.nextTick(() => callback(error));
}) as typeof dns.lookup;
dns.promises.lookup = (async (hostname: string) => {
  throw refuse(`dns ${hostname}`);
}) as typeof dns.promises.lookup;

const bundle = process.argv[2];
if (!bundle) throw new Error('usage: init-probe.mjs BUNDLE');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const mod = (
  bundle.endsWith('.cjs') ? createRequire(import.meta.url)(bundle) : await import(pathToFileURL(bundle).href)
) as Record<string, unknown>;
const t1 = performance.now();
const cpu1 = process.cpuUsage();
// Anything the module started asynchronously (it should start nothing) gets a moment to show itself.
await new Promise((resolve) => setTimeout(resolve, 20));
const m = process.memoryUsage();
const report: InitProbeReport = {
  importMs: Math.round((t1 - t0) * 100) / 100,
  sinceProcessStartMs: Math.round(t1 * 100) / 100,
  handlers: Object.keys(mod).filter((k) => typeof mod[k] === 'function'),
  networkAttempts: attempts,
  rssMB: Math.round((m.rss / 2 ** 20) * 10) / 10,
  heapUsedMB: Math.round((m.heapUsed / 2 ** 20) * 10) / 10,
  cpuMs: Math.round((cpu1.user + cpu1.system) / 10) / 100,
  importCpuMs: Math.round((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 10) / 100,
  maxRssMB: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
};
console.log(JSON.stringify(report));
