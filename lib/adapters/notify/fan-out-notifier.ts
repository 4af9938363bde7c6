import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { HealthChange, Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';

/** Tells every channel; one channel failing never keeps the others from hearing. */
export class FanOutNotifier implements Notifier {
  constructor(
    private readonly channels: readonly Notifier[],
    private readonly logger: Logger,
  ) {}

  healthChanged(change: HealthChange): Promise<void> {
    return this.#all('health change', (n) => n.healthChanged(change));
  }

  runHeld(run: RunRecord): Promise<void> {
    return this.#all('held run', (n) => n.runHeld(run));
  }

  refreshRejected(refresh: RejectedRefresh): Promise<void> {
    return this.#all('rejected refresh', (n) => n.refreshRejected(refresh));
  }

  async #all(what: string, send: (n: Notifier) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(this.channels.map(send));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    for (const reason of failed) this.logger.warn(`could not notify a ${what}`, { error: String(reason) });
    // Every channel had its turn; the caller still learns that one failed, as it did with one channel.
    if (failed.length > 0) throw failed[0];
  }
}
