import { type AuditEntry, AuditEntrySchema } from '#lib/domain/audit.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import type { AuditQuery, AuditTrail } from '#lib/ports/audit-trail.ts';
import { clone } from './tables.ts';

/** The order DynamoDB gives the trail's sort keys: the instant (UTC, ms), then the id, as UTF-8 bytes. */
const sortKey = (entry: AuditEntry): string => `${new Date(entry.at).toISOString()}#${entry.id}`;
const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

const decodeCursor = (cursor: string): string => {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key.includes('#') || Buffer.from(key, 'utf8').toString('base64url') !== cursor) {
    throw new ValidationError([{ path: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return key;
};

/** `AuditTrail` in memory: per resource, entries as first appended (never replaced), read newest first. */
export class InMemoryAuditTrail implements AuditTrail {
  /** `<type>/<id>` → entry id → entry */
  private readonly byResource = new Map<string, Map<string, AuditEntry>>();

  async append(entry: AuditEntry): Promise<boolean> {
    const parsed = AuditEntrySchema.parse(clone(entry));
    const resource = `${parsed.resource.type}/${parsed.resource.id}`;
    const entries = this.byResource.get(resource) ?? new Map<string, AuditEntry>();
    this.byResource.set(resource, entries);
    if (entries.has(sortKey(parsed))) return false;
    entries.set(sortKey(parsed), parsed);
    return true;
  }

  async list(query: AuditQuery): Promise<{ entries: AuditEntry[]; next?: string }> {
    if (!Number.isInteger(query.limit) || query.limit < 1) {
      throw new RangeError('limit must be a positive integer');
    }
    const after = query.cursor === undefined ? undefined : bytes(decodeCursor(query.cursor));
    const all = [...(this.byResource.get(`${query.resourceType}/${query.resourceId}`)?.entries() ?? [])]
      .map(([key, entry]) => ({ key: bytes(key), entry }))
      .sort((a, b) => Buffer.compare(b.key, a.key))
      .filter((e) => after === undefined || Buffer.compare(e.key, after) < 0);
    const page = all.slice(0, query.limit);
    const entries = page.map((e) => AuditEntrySchema.parse(clone(e.entry)));
    const last = page[page.length - 1];
    return all.length > query.limit && last ? { entries, next: last.key.toString('base64url') } : { entries };
  }
}
