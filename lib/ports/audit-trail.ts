import type { AuditEntry, AuditResourceType } from '#lib/domain/audit.ts';

export interface AuditQuery {
  resourceType: AuditResourceType;
  resourceId: string;
  /** 1 or more. */
  limit: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

/**
 * The audit trail (DynamoDB in AWS; docs/architecture.md#audit-trail): append-only records of who
 * changed which connection or export, requested or cancelled which run, and when. Entries expire
 * after the deployment's retention (default 400 days); nothing else removes or changes one.
 */
export interface AuditTrail {
  /** Files the entry; false when it is already filed (same resource, `at` and id): never overwritten. */
  append(entry: AuditEntry): Promise<boolean>;
  /**
   * A resource's entries, newest first (by `at`, then by id). `next` is returned only when more
   * follow; a cursor this port did not return is a `ValidationError` naming `cursor`.
   */
  list(query: AuditQuery): Promise<{ entries: AuditEntry[]; next?: string }>;
}
