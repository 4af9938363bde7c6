import type { MembershipTarget } from '#lib/domain/membership-targets.ts';
import type { TargetOwners } from '#lib/ports/target-owners.ts';
import type { Tables } from './tables.ts';

const targetKey = (connectionId: string, t: MembershipTarget): string =>
  JSON.stringify([connectionId, t.kind, t.name]);

/** `TargetOwners` in memory: one owning export per connection, kind and name. */
export class InMemoryTargetOwners implements TargetOwners {
  constructor(private readonly t: Tables) {}

  async claim(
    connectionId: string,
    exportId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<MembershipTarget & { owner: string }>> {
    const conflicts = targets.flatMap((target) => {
      const owner = this.t.targets.get(targetKey(connectionId, target));
      return owner !== undefined && owner !== exportId ? [{ ...target, owner }] : [];
    });
    if (conflicts.length > 0) return conflicts;
    for (const target of targets) this.t.targets.set(targetKey(connectionId, target), exportId);
    return [];
  }

  async release(
    connectionId: string,
    exportId: string,
    keep: readonly MembershipTarget[] = [],
  ): Promise<void> {
    const kept = new Set(keep.map((target) => targetKey(connectionId, target)));
    const prefix = JSON.stringify([connectionId]).slice(0, -1);
    for (const [key, owner] of [...this.t.targets]) {
      if (owner === exportId && key.startsWith(prefix) && !kept.has(key)) this.t.targets.delete(key);
    }
  }

  async owners(
    connectionId: string,
    targets: readonly MembershipTarget[],
  ): Promise<Array<string | undefined>> {
    return targets.map((target) => this.t.targets.get(targetKey(connectionId, target)));
  }
}
