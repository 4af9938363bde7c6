import type { SnapshotChange, StoredSnapshotEntry } from '#lib/domain/snapshot.ts';
import type { Snapshots } from '#lib/ports/snapshots.ts';
import type { Tables } from './tables.ts';

/** `Snapshots` in memory: hashes and (certain or uncertain) memberships, per export. */
export class InMemorySnapshots implements Snapshots {
  constructor(private readonly t: Tables) {}

  async *read(exportId: string): AsyncIterable<StoredSnapshotEntry> {
    const contacts = this.t.snapshotContacts.get(exportId) ?? new Map<string, { h: string; e?: string }>();
    const members = this.t.snapshotMembers.get(exportId) ?? new Map<string, Map<string, boolean>>();
    const keys = new Set<string>(contacts.keys());
    for (const set of members.values()) for (const k of set.keys()) keys.add(k);
    const segments = [...members.keys()].sort();
    for (const key of [...keys].sort()) {
      const c = contacts.get(key);
      const entry: StoredSnapshotEntry = {
        key,
        hash: c?.h ?? '',
        segmentIds: segments.filter((s) => members.get(s)?.get(key) === false),
      };
      const maybe = segments.filter((s) => members.get(s)?.get(key) === true);
      if (maybe.length > 0) entry.maybeSegmentIds = maybe;
      if (c?.e !== undefined) entry.email = c.e;
      yield entry;
    }
  }

  async apply(exportId: string, changes: readonly SnapshotChange[]): Promise<void> {
    const contacts = this.t.snapshotContacts.get(exportId) ?? new Map<string, { h: string; e?: string }>();
    const members = this.t.snapshotMembers.get(exportId) ?? new Map<string, Map<string, boolean>>();
    this.t.snapshotContacts.set(exportId, contacts);
    this.t.snapshotMembers.set(exportId, members);
    const member = (segmentId: string): Map<string, boolean> => {
      const set = members.get(segmentId) ?? new Map<string, boolean>();
      members.set(segmentId, set);
      return set;
    };
    for (const change of changes) {
      if (change.forget) contacts.delete(change.key);
      else if (change.hash !== null) {
        contacts.set(
          change.key,
          change.email === undefined ? { h: change.hash } : { h: change.hash, e: change.email },
        );
      }
      for (const s of change.maybe ?? []) member(s).set(change.key, true);
      for (const s of change.join) member(s).set(change.key, false);
      for (const s of change.leave) {
        members.get(s)?.delete(change.key);
        if (members.get(s)?.size === 0) members.delete(s);
      }
    }
  }

  async delete(exportId: string): Promise<void> {
    this.t.snapshotContacts.delete(exportId);
    this.t.snapshotMembers.delete(exportId);
    this.t.snapshotListIds.delete(exportId);
  }

  async lists(exportId: string): Promise<Record<string, string>> {
    return { ...this.t.snapshotListIds.get(exportId) };
  }

  async setList(exportId: string, segmentId: string, listId: string): Promise<void> {
    const lists = this.t.snapshotListIds.get(exportId) ?? {};
    const previous = lists[segmentId];
    if (previous === listId) return;
    if (previous !== undefined) this.t.snapshotMembers.get(exportId)?.delete(segmentId);
    this.t.snapshotListIds.set(exportId, { ...lists, [segmentId]: listId });
  }
}
