import { randomUUID } from 'node:crypto';
import type { Caller } from '#lib/domain/access.ts';
import {
  type AuditAction,
  type AuditDetail,
  type AuditEntry,
  type AuditResourceType,
  boundDetail,
} from '#lib/domain/audit.ts';
import { AUDITED_FIELDS, diffFields } from '#lib/domain/audit-changes.ts';
import type { AuditTrail } from '#lib/ports/audit-trail.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Logger } from '#lib/ports/logger.ts';

/** What recording an audit entry needs; every write use case's deps carry it. */
export interface AuditDeps {
  audit: Pick<AuditTrail, 'append'>;
  clock: Clock;
  logger: Logger;
}

export interface AuditFacts {
  action: AuditAction;
  resource: { type: AuditResourceType; id: string };
  /** The record before and after the write: none before a creation, none after a removal. */
  states?: { before?: object; after?: object };
  /** Secrets that changed: recorded as `{ field, changed: true }`, never with a value. */
  secrets?: readonly string[];
  runId?: string;
  detail?: AuditDetail;
}

let sequence = 0;

/**
 * Ids that sort in the order this process made them, also within one millisecond (the trail sorts
 * entries of one instant by id), and never collide across processes.
 */
const newAuditId = (now: number): string =>
  `aud_${now.toString(36).padStart(9, '0')}${(sequence++ % 36 ** 4).toString(36).padStart(4, '0')}` +
  randomUUID().replaceAll('-', '').slice(0, 8);

/**
 * Files one audit entry for a write that has already succeeded. A failure here does not undo or
 * fail that write (its caller would retry a change already made): it is logged as an error with
 * everything the entry holds but the values, so the gap is visible and can be filled from the log.
 */
export const recordAudit = async (deps: AuditDeps, caller: Caller, facts: AuditFacts): Promise<void> => {
  const now = deps.clock.now();
  const { changes, more } =
    facts.states === undefined
      ? { changes: undefined, more: 0 }
      : diffFields(
          AUDITED_FIELDS[facts.resource.type],
          facts.states.before as Record<string, unknown> | undefined,
          facts.states.after as Record<string, unknown> | undefined,
        );
  const secretChanges = (facts.secrets ?? []).map((field) => ({ field, changed: true as const }));
  const allChanges =
    changes === undefined && secretChanges.length === 0 ? undefined : [...secretChanges, ...(changes ?? [])];
  const entry: AuditEntry = {
    id: newAuditId(now),
    at: new Date(now).toISOString(),
    actor: { id: caller.id, role: caller.role },
    action: facts.action,
    resource: facts.resource,
    ...(allChanges === undefined ? {} : { changes: allChanges }),
    ...(more > 0 ? { moreChanges: more } : {}),
    ...(facts.runId === undefined ? {} : { runId: facts.runId }),
    ...(facts.detail === undefined ? {} : { detail: boundDetail(facts.detail) }),
  };
  try {
    await deps.audit.append(entry);
  } catch (error) {
    deps.logger.error('audit entry not recorded', {
      auditId: entry.id,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      resource: entry.resource,
      fields: entry.changes?.map((c) => c.field),
      runId: entry.runId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
