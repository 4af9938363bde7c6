import * as z from 'zod';

/**
 * Shapes of Ortto answers (docs/ortto.md). Objects are loose: unknown keys are ignored, and only what
 * the client relies on is required.
 */

/** One person's entry in a merge answer or in a 400's `details[]`. */
export const MergeEntrySchema = z.looseObject({
  person_id: z.string().min(1).optional(),
  status: z.string().max(100).optional(),
  error: z.string().optional(),
});
export type MergeEntry = z.infer<typeof MergeEntrySchema>;

export const MergeAnswerSchema = z.looseObject({ people: z.array(MergeEntrySchema) });

/**
 * Two envelopes: `{request_id, code, error: "text", details?}` for a refused request, and
 * `{error: {code: "rate-limit", message, "try-in-seconds"}}` for a 429.
 */
export const ErrorBodySchema = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  error: z
    .union([
      z.string(),
      z.looseObject({
        code: z.string().optional(),
        message: z.string().optional(),
        'try-in-seconds': z.number().optional(),
      }),
    ])
    .optional(),
  details: z.array(MergeEntrySchema).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const PeoplePageSchema = z.looseObject({
  contacts: z.array(z.looseObject({ id: z.string().min(1), fields: z.record(z.string(), z.unknown()) })),
  meta: z.looseObject({ total_matches: z.number().optional() }).optional(),
  next_offset: z.number().int().nonnegative().optional(),
  cursor_id: z.string().min(1).optional(),
  has_more: z.boolean(),
});

/** `tags/get` answers a bare array. */
export const TagsAnswerSchema = z.array(
  z.looseObject({ id: z.string().min(1), name: z.string(), count: z.number().int().nonnegative() }),
);

export const CustomFieldsAnswerSchema = z.looseObject({
  fields: z.array(
    z.looseObject({
      field: z.looseObject({
        id: z.string().min(1),
        name: z.string(),
        display_type: z.string(),
        dic_items: z.array(z.string()).optional(),
      }),
    }),
  ),
});

export const CreatedFieldSchema = z.looseObject({
  name: z.string(),
  field_id: z.string().min(1),
  display_type: z.string().optional(),
});
