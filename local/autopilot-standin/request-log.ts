import { UNKNOWN_ROUTE } from './routes.ts';
import type { FaultCount, RequestRecord } from './types.ts';

/** One answered (or reset) request, as the counts, the timeline and the log line record it. */
export interface Outcome {
  status: number;
  account?: string | undefined;
  fault?: string;
  applied?: boolean;
}

export interface RequestStart {
  /** Epoch ms. */
  arrivedAt: number;
  /** Monotonic ms, for the duration in the log line. */
  started: number;
  method: string;
  route: string;
}

/** Requests by route and status, injected faults by name, the timeline and the optional log. Never sees keys or emails. */
export class RequestLog {
  private readonly byRoute = new Map<string, Map<number, number>>();
  private readonly byFault = new Map<string, FaultCount>();
  private records: RequestRecord[] = [];

  constructor(
    private readonly keepTimeline: boolean,
    private readonly log: ((line: string) => void) | undefined,
  ) {}

  record(request: RequestStart, outcome: Outcome): void {
    const { arrivedAt, started, method, route } = request;
    const { status, account } = outcome;
    let byStatus = this.byRoute.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.byRoute.set(route, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (this.keepTimeline) {
      this.records.push({
        t: arrivedAt,
        route,
        status,
        ...(account === undefined ? {} : { account }),
        ...(outcome.fault === undefined ? {} : { fault: outcome.fault, applied: outcome.applied ?? false }),
      });
    }
    if (this.log !== undefined) {
      const name = route === UNKNOWN_ROUTE ? `${route} ${method}` : route;
      const answer = status === 0 ? 'reset' : String(status);
      const fault =
        outcome.fault === undefined ? '' : ` [${outcome.fault}${outcome.applied ? ', applied' : ''}]`;
      const ms = (performance.now() - started).toFixed(1);
      this.log(`${new Date(arrivedAt).toISOString()} ${account ?? '-'} ${name} ${answer}${fault} ${ms}ms`);
    }
  }

  /** `applied`: the struck request's route ran and succeeded (its write took effect). */
  countFault(name: string, applied: boolean): void {
    const count = this.byFault.get(name) ?? { injected: 0, applied: 0 };
    count.injected += 1;
    if (applied) count.applied += 1;
    this.byFault.set(name, count);
  }

  counts(): Record<string, Record<number, number>> {
    const out: Record<string, Record<number, number>> = {};
    for (const [route, byStatus] of this.byRoute) out[route] = Object.fromEntries(byStatus);
    return out;
  }

  faultCounts(): Record<string, FaultCount> {
    return Object.fromEntries([...this.byFault].map(([name, count]) => [name, { ...count }]));
  }

  timeline(): RequestRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  reset(): void {
    this.byRoute.clear();
    this.byFault.clear();
    this.records = [];
  }
}
