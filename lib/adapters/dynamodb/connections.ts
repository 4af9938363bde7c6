import { type Connection, ConnectionSchema } from '#lib/domain/connection.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';
import type { ConnectionEdit, Connections, EditStamp } from '#lib/ports/connections.ts';
import { createItem, deleteItem, getItem, queryIndex, reviseItem, updateItem } from './item-ops.ts';
import { fromItem, keys, type TableContext } from './records.ts';

/**
 * `Connections` on the state table (`CONN#<id>` / `META`, listed through GSI1 `CONNS`). System writes
 * (status, probe) never touch `version`; `revise` sets only the user's fields.
 */
export class DynamoDbConnections implements Connections {
  constructor(private readonly ctx: TableContext) {}

  create(connection: Connection): Promise<boolean> {
    return createItem(this.ctx, {
      ...connection,
      ...keys.connection(connection.id),
      gsi1pk: 'CONNS',
      gsi1sk: connection.id,
    });
  }

  revise(
    id: string,
    expectVersion: number,
    edit: ConnectionEdit,
    stamp: EditStamp,
  ): Promise<Connection | undefined> {
    return reviseItem(this.ctx, keys.connection(id), ConnectionSchema, expectVersion, edit, stamp);
  }

  get(id: string): Promise<Connection | undefined> {
    return getItem(this.ctx, keys.connection(id), ConnectionSchema);
  }

  async list(): Promise<Connection[]> {
    return (await queryIndex(this.ctx, 'CONNS')).map((item) => fromItem(ConnectionSchema, item));
  }

  delete(id: string): Promise<void> {
    return deleteItem(this.ctx, keys.connection(id));
  }

  async setStatus(id: string, status: Connection['status']): Promise<void> {
    await updateItem(this.ctx, keys.connection(id), (e) => ({
      update: `SET ${e.path('status')} = ${e.value(status)}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }

  claimProbe(
    id: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean> {
    return updateItem(this.ctx, keys.connection(id), (e) => {
      const probe = e.path('bulkMembership', 'probe');
      const checkedAt = e.path('bulkMembership', 'checkedAt');
      const state = e.path('bulkMembership', 'state');
      const verifiedRun = e.path('bulkMembership', 'verifiedRun');
      return {
        update: `SET ${probe} = ${e.value({ claimant, startedAt: times.now })}`,
        condition:
          `attribute_exists(${e.path('pk')}) AND (attribute_not_exists(${probe}) OR ` +
          `${e.path('bulkMembership', 'probe', 'startedAt')} < ${e.value(times.claimStaleBefore)} OR ` +
          `${e.path('bulkMembership', 'probe', 'claimant')} = ${e.value(claimant)}) AND ` +
          `(${state} = ${e.value('unknown')} OR attribute_not_exists(${checkedAt}) OR ` +
          `${checkedAt} < ${e.value(times.answerStaleBefore)} OR ` +
          `(${state} = ${e.value('supported')} AND (attribute_not_exists(${verifiedRun}) OR ` +
          `${verifiedRun} <> ${e.value(times.forRun)})))`,
      };
    });
  }

  async settleProbe(
    id: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void> {
    await updateItem(this.ctx, keys.connection(id), (e) => {
      const probe = e.path('bulkMembership', 'probe');
      const claimedBy = `${e.path('bulkMembership', 'probe', 'claimant')} = ${e.value(claimant)}`;
      if (result === 'unknown') return { update: `REMOVE ${probe}`, condition: claimedBy };
      const verified = e.path('bulkMembership', 'verifiedRun');
      const set = [
        `${e.path('bulkMembership', 'state')} = ${e.value(result)}`,
        `${e.path('bulkMembership', 'checkedAt')} = ${e.value(now)}`,
      ];
      const remove = [probe];
      if (result === 'supported' && verifiedRun !== undefined)
        set.push(`${verified} = ${e.value(verifiedRun)}`);
      else remove.push(verified);
      return { update: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`, condition: claimedBy };
    });
  }

  async resetBulkMembership(id: string): Promise<void> {
    await updateItem(this.ctx, keys.connection(id), (e) => ({
      update: `SET ${e.path('bulkMembership')} = ${e.value({ state: 'unknown' })}`,
      condition: `attribute_exists(${e.path('pk')})`,
    }));
  }
}
