import { compressCheckpoint } from '#lib/adapters/dynamodb/checkpoints.ts';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';

/**
 * Checkpoints as the DynamoDB adapter handles them within one invocation: each save is compressed
 * by the adapter's own code, counted, and let go (the chunks would be written away), so the planner's
 * memory is measured without an in-memory store holding every checkpoint. The benchmark plans in one
 * invocation; a load after a save would mean it paused, which would make its figures meaningless.
 */
export class SinkCheckpoints implements Checkpoints {
  saves = 0;
  compressedBytes = 0;

  async save(_runId: string, data: string | Iterable<string>): Promise<void> {
    this.saves++;
    this.compressedBytes += (await compressCheckpoint(data)).length;
  }

  async load(_runId: string): Promise<string | undefined> {
    if (this.saves > 0)
      throw new Error('The benchmark planner paused and resumed: its figures would be wrong.');
    return undefined;
  }

  async delete(_runId: string): Promise<void> {}
}
