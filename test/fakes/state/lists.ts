import type { ListMapping, ListRegistry } from '#lib/ports/list-registry.ts';
import { clone, type Tables } from './tables.ts';

const listKey = (connectionId: string, title: string): string => JSON.stringify([connectionId, title]);

/** `ListRegistry` in memory: a list id or a creation claim per connection and title. */
export class InMemoryListRegistry implements ListRegistry {
  constructor(private readonly t: Tables) {}

  async get(connectionId: string, title: string): Promise<ListMapping | undefined> {
    const l = this.t.lists.get(listKey(connectionId, title));
    return l && clone(l);
  }

  async claim(
    connectionId: string,
    title: string,
    runId: string,
    now: string,
    staleBefore: string,
  ): Promise<boolean> {
    const key = listKey(connectionId, title);
    const l = this.t.lists.get(key);
    if (l) {
      if ('listId' in l) return false;
      if (l.claimedBy !== runId && !(l.claimedAt < staleBefore)) return false;
    }
    this.t.lists.set(key, { claimedBy: runId, claimedAt: now });
    return true;
  }

  async save(connectionId: string, title: string, listId: string): Promise<void> {
    this.t.lists.set(listKey(connectionId, title), { listId });
  }

  async forget(connectionId: string, title: string): Promise<void> {
    this.t.lists.delete(listKey(connectionId, title));
  }
}
