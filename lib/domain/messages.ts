import * as z from 'zod';
import {
  CustomFieldTypeSchema,
  MAX_SEGMENTS_PER_EXPORT,
  MembershipTagSchema,
  StandardFieldSchema,
} from './export-config.ts';

/**
 * The queue contract. Every message carries `v` (schema version) and `type`; a consumer refuses a
 * version it does not know rather than guessing. Bump `v` and keep parsing the old one for a
 * release when a field changes meaning.
 */
export const MESSAGE_VERSION = 1 as const;

/** Stay under SQS's 256 KiB limit (the 1 MiB quota is newer and not universal), with headroom. */
export const MAX_MESSAGE_BYTES = 240 * 1024;

/**
 * Largest contact (its JSON, in UTF-8 bytes) the planner sends: one such contact plus the message
 * envelope still fits one queue message. Larger contacts are skipped as `too_large`.
 */
export const MAX_CONTACT_BYTES = 200 * 1024;

/** UTF-8 length of a string without encoding it (a lone surrogate counts as U+FFFD: 3 bytes). */
export const utf8Length = (text: string): number => {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
};

const id = z.string().min(1).max(200);

/**
 * Most send lanes one connection has: senders working one connection at once, each with one
 * single-request batch in flight (10 lanes keep 25 requests/s busy at 400 ms answers).
 */
export const MAX_SEND_LANES = 10;

export const ContactDataSchema = z.object({
  email: z.string().min(3).max(254),
  fields: z.partialRecord(StandardFieldSchema, z.string()),
  custom: z.record(
    z.string().min(1),
    z.object({ type: CustomFieldTypeSchema, value: z.union([z.string(), z.number(), z.boolean()]) }),
  ),
  tags: z
    .object({
      set: z.array(MembershipTagSchema).max(MAX_SEGMENTS_PER_EXPORT),
      unset: z.array(MembershipTagSchema).max(MAX_SEGMENTS_PER_EXPORT),
      existingOnly: z.boolean(),
    })
    .optional(),
});

const mask = z.number().int().min(0);

const UpsertItemSchema = z.object({
  data: ContactDataSchema,
  hash: z.string().nullable(),
  join: mask,
  leave: mask,
  forget: z.boolean(),
});
const JoinItemSchema = z.object({ data: ContactDataSchema, hash: z.string().min(1) });
const LeaveItemSchema = z.object({ email: z.string().min(3).max(254), forget: z.boolean() });

const batchBase = {
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('send-batch'),
  runId: id,
  exportId: id,
  connectionId: id,
  batchNo: z.number().int().min(0),
  /** Times this batch was put back on the queue after a rate-limit storm (never counts as a failure). */
  requeues: z.number().int().min(0).default(0),
  /**
   * Which of its connection's send lanes (FIFO message groups) carries the batch: a batch that is one
   * request goes round the lanes, so enough senders keep the budget busy; one of many requests
   * (pipelined within its delivery) stays in lane 0. See {@link MAX_SEND_LANES}.
   */
  lane: z
    .number()
    .int()
    .min(0)
    .max(MAX_SEND_LANES - 1)
    .default(0),
};

export const SendBatchMessageSchema = z.discriminatedUnion('op', [
  z.object({ ...batchBase, op: z.literal('upsert'), items: z.array(UpsertItemSchema).min(1).max(100) }),
  z.object({
    ...batchBase,
    op: z.literal('list-join'),
    segment: z.number().int().min(0),
    listId: id,
    items: z.array(JoinItemSchema).min(1).max(100),
  }),
  z.object({
    ...batchBase,
    op: z.literal('list-leave'),
    segment: z.number().int().min(0),
    listId: id,
    items: z.array(LeaveItemSchema).min(1).max(100),
  }),
]);
export type SendBatchMessage = z.infer<typeof SendBatchMessageSchema>;
export type SendBatchMessageInput = z.input<typeof SendBatchMessageSchema>;

/** Starts or resumes the planning of one run. */
export const PlanMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('plan'),
  runId: id,
  exportId: id,
  /** Set when resuming from a checkpoint after running short of time. */
  resume: z.boolean().default(false),
});
export type PlanMessage = z.infer<typeof PlanMessageSchema>;

export const batchKey = (runId: string, batchNo: number): string => `${runId}#${batchNo}`;
