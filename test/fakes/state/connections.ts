import { type Connection, ConnectionSchema } from '#lib/domain/connection.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import type { ConnectionEdit, Connections, EditStamp } from '#lib/ports/connections.ts';
import { assignDefined, clone, type Tables } from './tables.ts';

/** `Connections` in memory, with the DynamoDB adapter's conditions (the contract suite holds both to them). */
export class InMemoryConnections implements Connections {
  constructor(private readonly t: Tables) {}

  async create(connection: Connection): Promise<boolean> {
    if (this.t.connections.has(connection.id)) return false;
    this.t.connections.set(connection.id, clone(connection));
    return true;
  }

  async revise(
    id: string,
    expectVersion: number,
    edit: ConnectionEdit,
    stamp: EditStamp,
  ): Promise<Connection | undefined> {
    const c = this.t.connections.get(id);
    if (c === undefined || c.version !== expectVersion) return undefined;
    assignDefined(c, clone(edit));
    c.updatedBy = stamp.by;
    c.updatedAt = stamp.at;
    c.version += 1;
    return ConnectionSchema.parse(clone(c));
  }

  async get(id: string): Promise<Connection | undefined> {
    const c = this.t.connections.get(id);
    return c && ConnectionSchema.parse(clone(c));
  }

  async list(): Promise<Connection[]> {
    return [...this.t.connections.values()]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((c) => ConnectionSchema.parse(clone(c)));
  }

  async delete(id: string): Promise<void> {
    this.t.connections.delete(id);
  }

  async setStatus(id: string, status: Connection['status']): Promise<void> {
    const c = this.t.connections.get(id);
    if (c) c.status = status;
  }

  async claimProbe(
    id: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean> {
    const c = this.t.connections.get(id);
    if (!c) return false;
    const { probe, state, checkedAt, verifiedRun } = c.bulkMembership;
    if (probe && probe.claimant !== claimant && !(probe.startedAt < times.claimStaleBefore)) return false;
    const answerNeeded =
      state === 'unknown' ||
      checkedAt === undefined ||
      checkedAt < times.answerStaleBefore ||
      (state === 'supported' && verifiedRun !== times.forRun);
    if (!answerNeeded) return false;
    c.bulkMembership = { ...c.bulkMembership, probe: { claimant, startedAt: times.now } };
    return true;
  }

  async settleProbe(
    id: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void> {
    const c = this.t.connections.get(id);
    if (!c || c.bulkMembership.probe?.claimant !== claimant) return;
    const { probe: _released, verifiedRun: previous, ...rest } = c.bulkMembership;
    if (result === 'unknown') {
      c.bulkMembership = { ...rest, ...(previous === undefined ? {} : { verifiedRun: previous }) };
      return;
    }
    c.bulkMembership = {
      ...rest,
      state: result,
      checkedAt: now,
      ...(result === 'supported' && verifiedRun !== undefined ? { verifiedRun } : {}),
    };
  }

  async resetBulkMembership(id: string): Promise<void> {
    const c = this.t.connections.get(id);
    if (c) c.bulkMembership = { state: 'unknown' };
  }
}
