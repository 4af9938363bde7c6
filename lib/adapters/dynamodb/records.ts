import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { maskEmail } from '#lib/domain/email.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { TTL_ATTRIBUTE } from './tables.ts';

export type Item = Record<string, AttributeValue>;

/** How long run detail lives before DynamoDB's TTL removes it. Run META items never expire (history). */
export interface TtlDays {
  batches: number;
  samples: number;
  checkpoints: number;
  /** Audit entries, from their `at` (the deployment's AUDIT_RETENTION_DAYS). */
  audit: number;
}

export const DEFAULT_TTL_DAYS: TtlDays = { batches: 30, samples: 30, checkpoints: 2, audit: 400 };

/** What every part of the store shares: one client, one table, one clock. */
export interface TableContext {
  client: DynamoDBClient;
  tableName: string;
  clock: Clock;
  ttlDays: TtlDays;
}

export const keys = {
  connection: (id: string) => ({ pk: `CONN#${id}`, sk: 'META' }),
  list: (connectionId: string, title: string) => ({ pk: `CONN#${connectionId}`, sk: `LIST#${title}` }),
  rate: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'RATE' }),
  target: (connectionId: string, kind: 'list' | 'field' | 'tag', name: string) => ({
    pk: `CONN#${connectionId}`,
    sk: `OWN#${kind}#${name}`,
  }),
  export: (id: string) => ({ pk: `EXPORT#${id}`, sk: 'META' }),
  run: (id: string) => ({ pk: `RUN#${id}`, sk: 'META' }),
  batch: (runId: string, batchNo: number) => ({ pk: `RUN#${runId}`, sk: `BATCH#${pad(batchNo, 8)}` }),
  sample: (runId: string, batchNo: number, from: number, n: number) => ({
    pk: `RUN#${runId}`,
    sk: `ERR#${pad(batchNo, 8)}#${pad(from, 4)}#${n}`,
  }),
  snapshotPk: (exportId: string) => `SNAP#${exportId}`,
  contactSk: (key: string) => `C#${key}`,
  memberSk: (segmentId: string, key: string) => `M#${segmentId}#${key}`,
  snapshotListSk: (segmentId: string) => `L#${segmentId}`,
  refresh: (refreshId: string) => ({ pk: `REFRESH#${refreshId}`, sk: 'META' }),
  segmentRefreshPk: (segmentId: string) => `REFSEG#${segmentId}`,
  /** Newest first in one descending Query: the creation instant (UTC, fixed width), then the id. */
  segmentRefreshSk: (createdAt: string, refreshId: string) =>
    `${new Date(createdAt).toISOString()}#${refreshId}`,
  /** One partition holding every segment's newest complete refresh: the catalog in one Query. */
  segmentCatalogPk: 'SEGCAT',
  segmentCatalog: (segmentId: string) => ({ pk: 'SEGCAT', sk: segmentId }),
  auditPk: (type: string, id: string) => `AUDIT#${type}#${id}`,
  /** Newest first in one descending Query: the entry's instant (UTC, fixed width), then its id. */
  auditSk: (at: string, id: string) => `${new Date(at).toISOString()}#${id}`,
} as const;

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Attributes that address an item rather than describe the record. */
const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', TTL_ATTRIBUTE] as const;

/**
 * Snapshot sort keys end in a contact's email (`C#<email>`, `M#<segment>#<email>`): personal data
 * that must not reach a log line through an error message.
 */
export const maskSortKey = (sk: string): string => {
  if (!sk.startsWith('C#') && !sk.startsWith('M#')) return sk;
  const cut = sk.lastIndexOf('#');
  return `${sk.slice(0, cut + 1)}${maskEmail(sk.slice(cut + 1))}`;
};

/** An item read back did not match its schema: a bug, a manual edit, or a migration gone wrong. */
export class CorruptItemError extends Error {
  override readonly name = 'CorruptItemError';
  /** The item's key, with any email in it masked. */
  readonly key: { pk: string; sk: string };
  constructor(
    key: { pk: string; sk: string },
    readonly field: string,
    detail: string,
  ) {
    const masked = { pk: key.pk, sk: maskSortKey(key.sk) };
    super(`Corrupt state item (pk=${masked.pk}, sk=${masked.sk}): field "${field}" ${detail}`);
    this.key = masked;
  }
}

const itemKey = (item: Item): { pk: string; sk: string } => ({
  pk: item.pk?.S ?? '(no pk)',
  sk: item.sk?.S ?? '(no sk)',
});

/** Unmarshals an item, drops key and TTL attributes and validates the rest with `schema`. */
export const fromItem = <S extends z.ZodType>(schema: S, item: Item): z.output<S> => {
  const key = itemKey(item);
  let native: Record<string, unknown>;
  try {
    native = unmarshall(item);
  } catch (error) {
    throw new CorruptItemError(key, '(item)', `cannot be read: ${(error as Error).message}`);
  }
  for (const k of KEY_ATTRIBUTES) delete native[k];
  const parsed = schema.safeParse(native);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.map(String).join('.') : '(item)';
    throw new CorruptItemError(key, field, `is invalid: ${issue?.message ?? 'unknown problem'}`);
  }
  return parsed.data;
};

export const toItem = (record: object): Item =>
  marshall(record, { removeUndefinedValues: true, convertClassInstanceToMap: false });

export const expiresAt = (ctx: TableContext, days: number): number =>
  Math.floor(ctx.clock.now() / 1000) + Math.round(days * 86_400);

export const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;

export const isConditionFailed = (error: unknown): boolean =>
  errorName(error) === 'ConditionalCheckFailedException';

/** Why each item of a cancelled transaction failed, in the transaction's order. */
export const cancellationCodes = (error: unknown): (string | undefined)[] =>
  ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);

/**
 * Builds expression attribute names and values. Every path segment goes through a placeholder:
 * record fields like `status` and `name` are reserved words, and counter keys (`failedByReason`,
 * `requests`) are arbitrary strings that may hold dots, `#` or spaces.
 */
export class Expr {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, unknown> = {};
  private valueCount = 0;

  /** `path('progress', 'requests', kind)` → `#n0.#n1.#n2`. */
  path(...segments: string[]): string {
    return segments
      .map((segment) => {
        let placeholder = this.names.get(segment);
        if (!placeholder) {
          placeholder = `#n${this.names.size}`;
          this.names.set(segment, placeholder);
        }
        return placeholder;
      })
      .join('.');
  }

  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The `ExpressionAttributeNames`/`Values` to pass along (absent when empty, as DynamoDB insists). */
  attributes(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item } {
    const out: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item } = {};
    if (this.names.size > 0) {
      out.ExpressionAttributeNames = Object.fromEntries([...this.names].map(([name, ph]) => [ph, name]));
    }
    if (this.valueCount > 0) out.ExpressionAttributeValues = toItem(this.values);
    return out;
  }
}

/** Counter maps never hold '' keys (DynamoDB refuses empty attribute names) or zero increments. */
export const normaliseCounts = (counts: Record<string, number>): Map<string, number> => {
  const out = new Map<string, number>();
  for (const [raw, n] of Object.entries(counts)) {
    if (!n) continue;
    const key = raw === '' ? '(none)' : raw;
    out.set(key, (out.get(key) ?? 0) + n);
  }
  return out;
};

export const ErrorSampleItemSchema = z.object({
  email: z.string(),
  reason: z.string(),
  batchNo: z.number().int().optional(),
});

export const ListMappingItemSchema = z.union([
  z.object({ listId: z.string().min(1) }),
  z.object({ claimedBy: z.string().min(1), claimedAt: z.string().min(1) }),
]);

/** Backs off for a short, jittered while: `attempt` 0 → ~10 ms, doubling up to ~500 ms. */
export const backoff = (clock: Clock, attempt: number): Promise<void> =>
  clock.sleep(Math.min(500, 10 * 2 ** attempt) * (0.5 + Math.random()));
