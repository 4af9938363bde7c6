import type { Connection } from '#lib/domain/connection.ts';
import type { BulkMembership } from '#lib/domain/costs.ts';

/**
 * The fields of a connection an edit may change: what a person edits, and the key's hint, which a
 * key rotation replaces. Everything else is identity or system state.
 */
export type ConnectionEdit = Partial<
  Pick<Connection, 'displayName' | 'sharing' | 'exportUsers' | 'cap' | 'ratePerSecond' | 'keyHint'>
>;

/** Who made an edit, and when: recorded as `updatedBy` / `updatedAt`. */
export interface EditStamp {
  by: string;
  at: string;
}

/**
 * Connections (DynamoDB in AWS). `version` counts the user's edits only: system state (`status`,
 * `bulkMembership`) changes through its own methods and never touches it.
 */
export interface Connections {
  /** False when a connection with this id exists. */
  create(connection: Connection): Promise<boolean>;
  /**
   * Applies `edit` if the stored version is `expectVersion`: sets the fields, `updatedBy`/`updatedAt`
   * and `version + 1`, leaving system state as stored. The revised connection, or undefined when it
   * changed since (or is gone).
   */
  revise(
    id: string,
    expectVersion: number,
    edit: ConnectionEdit,
    stamp: EditStamp,
  ): Promise<Connection | undefined>;
  get(id: string): Promise<Connection | undefined>;
  list(): Promise<Connection[]>;
  delete(id: string): Promise<void>;
  setStatus(id: string, status: Connection['status']): Promise<void>;
  /**
   * Claims the bulk-membership probe for `claimant` (one batch: `runId#batchNo`). Succeeds only while an
   * answer is still needed — state unknown, last checked before `answerStaleBefore`, or `supported`
   * but not yet confirmed by `forRun` — and no other claimant holds a claim younger than
   * `claimStaleBefore`.
   */
  claimProbe(
    id: string,
    claimant: string,
    times: { now: string; claimStaleBefore: string; answerStaleBefore: string; forRun: string },
  ): Promise<boolean>;
  /**
   * Records the probe's answer (or, with `result` unknown, releases the claim). A `supported` answer
   * records `verifiedRun`; the others clear it.
   */
  settleProbe(
    id: string,
    claimant: string,
    result: BulkMembership,
    now: string,
    verifiedRun?: string,
  ): Promise<void>;
  /** Forgets what bulk membership was found to do (a new key may be a new account): the next run probes. */
  resetBulkMembership(id: string): Promise<void>;
}
