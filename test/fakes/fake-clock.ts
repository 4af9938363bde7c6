import type { Clock } from '#lib/ports/clock.ts';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Virtual time. `sleep(ms)` parks the caller until virtual time reaches `now + ms`; nothing waits
 * for real time.
 *
 * With `autoAdvance` (the default), whenever sleepers are parked the clock jumps to the earliest
 * deadline on the next macrotask (`setImmediate`), wakes that sleeper (ties in the order they went to
 * sleep), and repeats. Concurrent callers therefore see the same timeline they would with a real
 * clock, deterministically, as long as their work between sleeps settles in microtasks (in-memory
 * fakes do; real I/O does not). With `autoAdvance: false`, only `advance()` moves time.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private flushScheduled = false;
  private readonly autoAdvance: boolean;

  constructor(options: { start?: number; autoAdvance?: boolean } = {}) {
    this.current = options.start ?? Date.UTC(2025, 0, 1);
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.current + Math.max(0, ms), seq: this.seq++, resolve });
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.scheduleFlush();
    });
  }

  /** Moves time forward by `ms` and wakes every sleeper whose deadline has come. */
  advance(ms: number): void {
    this.current += Math.max(0, ms);
    while (this.timers.length > 0 && (this.timers[0]?.at ?? Number.POSITIVE_INFINITY) <= this.current) {
      this.timers.shift()?.resolve();
    }
  }

  /** Sleepers still parked. */
  get pending(): number {
    return this.timers.length;
  }

  private scheduleFlush(): void {
    if (!this.autoAdvance || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const next = this.timers.shift();
      if (!next) return;
      this.current = Math.max(this.current, next.at);
      next.resolve();
      if (this.timers.length > 0) this.scheduleFlush();
    });
  }
}
