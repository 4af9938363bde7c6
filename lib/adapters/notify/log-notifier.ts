import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { HealthChange, Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';
import { describeHealth, describeHold, describeRefresh } from './sns-notifier.ts';

/** Where there is no topic (local mode): the notification becomes a warning log line. */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  async healthChanged(change: HealthChange): Promise<void> {
    const { subject, text } = describeHealth(change);
    this.logger.warn(subject, { runId: change.run.id, exportId: change.exportId, notification: text });
  }

  async runHeld(run: RunRecord): Promise<void> {
    const { subject, text } = describeHold(run);
    this.logger.warn(subject, { runId: run.id, exportId: run.exportId, notification: text });
  }

  async refreshRejected(refresh: RejectedRefresh): Promise<void> {
    const { subject, text } = describeRefresh(refresh);
    this.logger.warn(subject, { refreshId: refresh.refreshId, notification: text });
  }
}
