import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Notifier } from '#lib/ports/notifier.ts';

export class RecordingNotifier implements Notifier {
  readonly runs: RunRecord[] = [];
  async runFinished(run: RunRecord): Promise<void> {
    this.runs.push(run);
  }
}
