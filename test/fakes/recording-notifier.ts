import type { Notifier } from '#lib/ports/notifier.ts';
import type { RunRecord } from '#lib/ports/state-store.ts';

export class RecordingNotifier implements Notifier {
  readonly runs: RunRecord[] = [];
  async runFinished(run: RunRecord): Promise<void> {
    this.runs.push(run);
  }
}
