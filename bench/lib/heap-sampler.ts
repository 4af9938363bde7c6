import { getHeapStatistics } from 'node:v8';

/**
 * Peak `heapUsed` of this process, sampled on a timer and at every call the caller reports with
 * `sample()` (the planner's port calls: between them its work is synchronous and no timer runs).
 * A sample is an upper bound of live data at that moment (garbage not yet collected counts too);
 * `process.resourceUsage().maxRSS` stays the authoritative peak.
 */
export class HeapSampler {
  peakHeapUsed = 0;
  peakHeapTotal = 0;
  peakExternal = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 5): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
  }

  /** V8's figures only: `process.memoryUsage()` also reads the RSS from /proc, too slow to call this often. */
  sample(): void {
    const h = getHeapStatistics();
    this.samples++;
    if (h.used_heap_size > this.peakHeapUsed) this.peakHeapUsed = h.used_heap_size;
    if (h.total_heap_size > this.peakHeapTotal) this.peakHeapTotal = h.total_heap_size;
    // Buffers (the file reads) are external memory.
    if (h.external_memory > this.peakExternal) this.peakExternal = h.external_memory;
  }
}

/** Wraps every method of `target` so each call (and each settled promise) takes a heap sample. */
export const sampledPort = <T extends object>(
  target: T,
  sampler: HeapSampler,
  onCall?: (method: string) => void,
): T =>
  new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        sampler.sample();
        onCall?.(String(prop));
        const out = (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (out instanceof Promise) return out.finally(() => sampler.sample());
        return out;
      };
    },
  });
