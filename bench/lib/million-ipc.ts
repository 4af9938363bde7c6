/**
 * The child side of bench/million.ts's two processes (the runtime's and the planner's): requests
 * `{ id, op, ...args }` over the IPC channel, one answer per request, and the resident-set figures
 * each child reports of itself. Nothing here may pull the bench's build tools into a child.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FileLogger } from '#local/file-logger.ts';
import type { AwsCounts } from './aws-counter.ts';
import type { S3Counts } from './queue-deliveries.ts';

/** What a child counted since its last reset, and its own memory. */
export interface ProcessCounts {
  aws: AwsCounts;
  s3: S3Counts;
  /** Plan-queue messages delivered to a planner here: one invocation each. */
  plannerInvocations: number;
  /** The event sources' errors (a planner past its timeout shows here). */
  sourceErrors: Record<string, number>;
  /** This process's resident set: high-water mark since the last reset, and now. */
  peakRssMB: number;
  /** The planner process: each plan-queue invocation's own peak, in the order they ended. */
  invocationPeaksMB?: number[];
  /** The planner process: where its memory was at the highest resident set sampled (every 250 ms). */
  peakSample?: MemorySample;
  rssMB: number;
  /** Resident set right after the last peak reset (after a full GC): what the idle process holds. */
  baselineRssMB: number;
}

/** process.memoryUsage() in MB: what of the resident set is V8's heap and what lies outside it. */
export interface MemorySample {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export const memorySample = (): MemorySample => {
  const m = process.memoryUsage();
  return {
    rssMB: mb(m.rss),
    heapUsedMB: mb(m.heapUsed),
    heapTotalMB: mb(m.heapTotal),
    externalMB: mb(m.external),
    arrayBuffersMB: mb(m.arrayBuffers),
  };
};

export type IpcResponse = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: string });

/** The child's side: answers each request with `handle`'s value or its error. */
export const serveIpc = <R extends { id: number }>(handle: (request: R) => Promise<unknown>): void => {
  process.on('message', (message: R) => {
    handle(message).then(
      (value) => process.send?.({ id: message.id, ok: true, value } satisfies IpcResponse),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies IpcResponse),
    );
  });
};

/** A figure of this process's /proc/self/status (VmHWM, VmRSS), in MB to one decimal. */
export const statusMB = (field: 'VmHWM' | 'VmRSS'): number => {
  const value = new RegExp(`^${field}:\\s*(\\d+)\\s*kB$`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  )?.[1];
  if (value === undefined) throw new Error(`/proc/self/status has no ${field} (Linux only)`);
  return Math.round((Number(value) / 1024) * 10) / 10;
};

/**
 * Full GC, then VmHWM back to the current resident set (Linux: clear_refs 5), so the next peak is
 * one run's own; answers that resident set (what the idle process holds).
 */
export const resetPeak = (): number => {
  globalThis.gc?.();
  writeFileSync('/proc/self/clear_refs', '5');
  return statusMB('VmRSS');
};

/** Counts the event sources' error lines by message into `errors`, and writes every line to the log file. */
export const countingLogger = (path: string, errors: Record<string, number>): FileLogger => {
  const file = new FileLogger(path);
  const error = file.error.bind(file);
  file.error = (message, fields) => {
    if (message.endsWith('event source error')) {
      const key = `${message}: ${String(fields?.error ?? '').slice(0, 60)}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
    error(message, fields);
  };
  return file;
};
