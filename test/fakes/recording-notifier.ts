import type { RunRecord } from '#lib/domain/run-record.ts';
import type { HealthChange, Notifier, RejectedRefresh } from '#lib/ports/notifier.ts';

export class RecordingNotifier implements Notifier {
  readonly changes: HealthChange[] = [];
  readonly rejectedRefreshes: RejectedRefresh[] = [];
  readonly held: RunRecord[] = [];
  /** The runs whose end changed their export's health, in order. */
  get runs(): RunRecord[] {
    return this.changes.map((c) => c.run);
  }
  async healthChanged(change: HealthChange): Promise<void> {
    this.changes.push(structuredClone(change));
  }
  async runHeld(run: RunRecord): Promise<void> {
    this.held.push(structuredClone(run));
  }
  async refreshRejected(refresh: RejectedRefresh): Promise<void> {
    this.rejectedRefreshes.push(structuredClone(refresh));
  }
}
