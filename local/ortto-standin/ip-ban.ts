/**
 * Ortto's bad-request limiter: too many bad (or bad-credential) requests from one IP within a window
 * ban that IP for a while (documented: 15 within 15 s → 15 s). Times are the stand-in's clock, in ms.
 */
export interface BanSettings {
  banThreshold: number;
  banWindowSeconds: number;
  banSeconds: number;
}

export class BadRequestBans {
  private readonly recent = new Map<string, number[]>();
  private readonly bannedUntil = new Map<string, number>();
  private count = 0;

  constructor(private readonly settings: () => BanSettings) {}

  /** Seconds left on this IP's ban (at least 1), or undefined when it is not banned. */
  remainingSeconds(ip: string, nowMs: number): number | undefined {
    const until = this.bannedUntil.get(ip);
    if (until === undefined) return undefined;
    if (nowMs >= until) {
      this.bannedUntil.delete(ip);
      return undefined;
    }
    return Math.max(1, Math.ceil((until - nowMs) / 1000));
  }

  /** Counts one bad request; answers whether it started a ban. */
  recordBad(ip: string, nowMs: number): boolean {
    const { banThreshold, banWindowSeconds, banSeconds } = this.settings();
    const since = nowMs - banWindowSeconds * 1000;
    const times = (this.recent.get(ip) ?? []).filter((t) => t > since);
    times.push(nowMs);
    if (times.length < banThreshold) {
      this.recent.set(ip, times);
      return false;
    }
    this.recent.delete(ip);
    if (banSeconds === 0) return false;
    this.bannedUntil.set(ip, nowMs + banSeconds * 1000);
    this.count += 1;
    return true;
  }

  bans(): number {
    return this.count;
  }

  reset(): void {
    this.recent.clear();
    this.bannedUntil.clear();
    this.count = 0;
  }
}
