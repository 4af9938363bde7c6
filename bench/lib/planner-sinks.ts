import { compressMembers } from '#lib/adapters/dynamodb/checkpoints.ts';
import { parts, stagedLine } from '#lib/adapters/dynamodb/snapshot-codec.ts';
import type { Checkpoints } from '#lib/ports/checkpoints.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';

/**
 * The snapshots port with staging as the DynamoDB adapter does it within one invocation: each staged
 * chunk is encoded and compressed by the adapter's own code, counted, and let go (its parts would be
 * written away). The in-memory fake keeps a copy of every staged batch, which at a million contacts
 * is hundreds of megabytes the deployed planner never holds. Everything else is the given port's.
 */
export const sinkStaging = (snapshots: Snapshots): Snapshots & { stagedBytes: () => number } => {
  let bytes = 0;
  const stage: Snapshots['stage'] = async (_exportId, _runId, batches) => {
    for (const part of parts(batches.map(stagedLine))) bytes += part.data.length;
  };
  return new Proxy(snapshots, {
    get(target, property) {
      if (property === 'stage') return stage;
      if (property === 'stagedBytes') return () => bytes;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Snapshots & { stagedBytes: () => number };
};

/**
 * Checkpoints as the DynamoDB adapter saves them within one invocation: compressed into gzip members
 * by its own code (never one text, never one buffer), counted, and let go. The benchmark plans in one
 * invocation; a load after a save would mean it paused, which would make its figures meaningless.
 */
export class SinkCheckpoints implements Checkpoints {
  saves = 0;
  compressedBytes = 0;

  async save(_runId: string, data: string | Iterable<string>): Promise<void> {
    this.saves++;
    this.compressedBytes += compressMembers(data).bytes;
  }

  async load(_runId: string): Promise<undefined> {
    if (this.saves > 0)
      throw new Error('The benchmark planner paused and resumed: its figures would be wrong.');
    return undefined;
  }

  async delete(_runId: string): Promise<void> {}
}
