import type { SnapshotChange, StoredSnapshotEntry } from './snapshot.ts';

interface Folded {
  hash: string;
  email?: string;
  segments: readonly string[];
  maybe?: readonly string[];
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * The snapshot being rebuilt from its base and its logs, in their order. Segment lists are interned
 * (most contacts share a handful of combinations), so a million entries cost one small object each
 * plus their key and hash strings.
 */
export class SnapshotFold {
  private readonly entries = new Map<string, Folded>();
  private readonly lists = new Map<string, readonly string[]>();

  get size(): number {
    return this.entries.size;
  }

  put(entry: StoredSnapshotEntry): void {
    this.set(entry.key, {
      hash: entry.hash,
      ...(entry.email === undefined ? {} : { email: entry.email }),
      segments: this.intern(entry.segmentIds),
      ...(entry.maybeSegmentIds?.length ? { maybe: this.intern(entry.maybeSegmentIds) } : {}),
    });
  }

  /** Applies changes in order; a key changed twice ends as the last change says. */
  apply(changes: Iterable<SnapshotChange>): void {
    for (const c of changes) {
      const was = this.entries.get(c.key);
      const segments = new Set(was?.segments ?? EMPTY);
      const maybe = new Set(was?.maybe ?? EMPTY);
      for (const s of c.maybe ?? EMPTY) {
        segments.delete(s);
        maybe.add(s);
      }
      for (const s of c.join) {
        segments.add(s);
        maybe.delete(s);
      }
      for (const s of c.leave) {
        segments.delete(s);
        maybe.delete(s);
      }
      let hash = was?.hash ?? '';
      let email = was?.email;
      if (c.forget) {
        hash = '';
        email = undefined;
      } else if (c.hash !== null) {
        hash = c.hash;
        email = c.email;
      }
      this.set(c.key, {
        hash,
        ...(email === undefined ? {} : { email }),
        segments: this.intern([...segments]),
        ...(maybe.size > 0 ? { maybe: this.intern([...maybe]) } : {}),
      });
    }
  }

  /** Forgets every membership of one segment (its destination list was replaced). */
  dropSegment(segmentId: string): void {
    for (const [key, e] of this.entries) {
      if (!e.segments.includes(segmentId) && !e.maybe?.includes(segmentId)) continue;
      const maybe = (e.maybe ?? EMPTY).filter((s) => s !== segmentId);
      this.set(key, {
        hash: e.hash,
        ...(e.email === undefined ? {} : { email: e.email }),
        segments: this.intern(e.segments.filter((s) => s !== segmentId)),
        ...(maybe.length > 0 ? { maybe: this.intern(maybe) } : {}),
      });
    }
  }

  /** Every entry, sorted by key, each yielded once and dropped as it goes when `consume`. */
  *read(consume = false): Generator<StoredSnapshotEntry> {
    const keys = [...this.entries.keys()].sort();
    for (const key of keys) {
      const e = this.entries.get(key);
      if (e === undefined) continue;
      if (consume) this.entries.delete(key);
      const entry: StoredSnapshotEntry = { key, hash: e.hash, segmentIds: [...e.segments] };
      if (e.email !== undefined) entry.email = e.email;
      if (e.maybe !== undefined) entry.maybeSegmentIds = [...e.maybe];
      yield entry;
    }
  }

  private set(key: string, entry: Folded): void {
    // A contact known for nothing (no hash, no membership either way) is not remembered.
    if (entry.hash === '' && entry.segments.length === 0 && entry.maybe === undefined)
      this.entries.delete(key);
    else this.entries.set(key, entry);
  }

  private intern(ids: readonly string[]): readonly string[] {
    if (ids.length === 0) return EMPTY;
    const sorted = [...ids].sort();
    const id = sorted.join('\u0000');
    let found = this.lists.get(id);
    if (found === undefined) {
      found = Object.freeze(sorted);
      this.lists.set(id, found);
    }
    return found;
  }
}
