import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';

export class RecordingNotifier implements Notifier {
  readonly runs: RunRecord[] = [];
  readonly rejectedRefreshes: RejectedRefresh[] = [];
  async runFinished(run: RunRecord): Promise<void> {
    this.runs.push(run);
  }
  async refreshRejected(refresh: RejectedRefresh): Promise<void> {
    this.rejectedRefreshes.push(structuredClone(refresh));
  }
}
