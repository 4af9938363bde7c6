import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import type { Tables } from './tables.ts';

export class InMemoryCheckpoints implements Checkpoints {
  constructor(private readonly t: Tables) {}

  async save(runId: string, data: string | Iterable<string>): Promise<void> {
    this.t.checkpoints.set(runId, typeof data === 'string' ? data : [...data].join(''));
  }

  async load(runId: string): Promise<string | undefined> {
    return this.t.checkpoints.get(runId);
  }

  async delete(runId: string): Promise<void> {
    this.t.checkpoints.delete(runId);
  }
}
