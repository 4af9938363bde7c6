import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import type { Tables } from './tables.ts';

/** Keeps the pieces as they were saved and gives them back as pieces, as a streaming store would. */
export class InMemoryCheckpoints implements Checkpoints {
  constructor(private readonly t: Tables) {}

  async save(runId: string, data: string | Iterable<string>): Promise<void> {
    this.t.checkpoints.set(runId, typeof data === 'string' ? [data] : [...data]);
  }

  async load(runId: string): Promise<Iterable<string> | undefined> {
    const pieces = this.t.checkpoints.get(runId);
    return pieces === undefined ? undefined : pieces.values();
  }

  async delete(runId: string): Promise<void> {
    this.t.checkpoints.delete(runId);
  }
}
