import * as z from 'zod';

/**
 * Shapes of Autopilot v1 responses (docs/autopilot-api.md#errors, #bulk-upsert, #lists, #membership, #paging). Objects are non-strict: unknown keys
 * (`_removeResultKeys`, `api_originated`, ...) are ignored. Only what the client relies on is required.
 */

/** `{error, message}` per the blueprint; the PHP client also saw `{code, message}`. */
export const ErrorBodySchema = z.object({
  error: z.string().optional(),
  code: z.union([z.string(), z.number()]).optional(),
  message: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const UpsertResponseSchema = z.object({ contact_id: z.string().min(1) });
export type UpsertResponse = z.infer<typeof UpsertResponseSchema>;

/**
 * `email_contact_map` is what tells which contacts were accepted (a failed contact has no entry).
 * The 2015 form carried only `contact_ids`; the client falls back to it when the map is absent.
 */
export const BulkUpsertResponseSchema = z
  .object({
    contact_ids: z.array(z.string()).optional(),
    email_contact_map: z.record(z.string(), z.string()).optional(),
  })
  .refine((r) => r.contact_ids !== undefined || r.email_contact_map !== undefined, {
    message: 'has neither email_contact_map nor contact_ids',
  });
export type BulkUpsertResponse = z.infer<typeof BulkUpsertResponseSchema>;

export const CustomFieldValueSchema = z.object({
  kind: z.string(),
  value: z.unknown(),
  fieldType: z.string(),
  deleted: z.boolean().optional(),
});
export type CustomFieldValue = z.infer<typeof CustomFieldValueSchema>;

/** A contact as GET responses carry it (docs/autopilot-api.md#contact-fields): unset fields are absent; scalars are kept as sent. */
export const ContactRecordSchema = z.looseObject({
  contact_id: z.string().min(1),
  Email: z.string().optional(),
  lists: z.array(z.string()).optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  unsubscribed: z.boolean().optional(),
  custom_fields: z.array(CustomFieldValueSchema).optional(),
});
export type ContactRecord = z.infer<typeof ContactRecordSchema>;

export const ContactPageSchema = z.object({
  contacts: z.array(ContactRecordSchema),
  total_contacts: z.number().int().nonnegative(),
  bookmark: z.string().optional(),
});
export type ContactPage = z.infer<typeof ContactPageSchema>;

export const ListsResponseSchema = z.object({
  lists: z.array(z.object({ list_id: z.string().min(1), title: z.string() })),
});
export type ListsResponse = z.infer<typeof ListsResponseSchema>;

export const CreateListResponseSchema = z.object({ list_id: z.string().min(1) });
export type CreateListResponse = z.infer<typeof CreateListResponseSchema>;

/** Membership add/remove/check: `{}`, `{"not_modified": true}` or no body at all. */
export const MembershipResponseSchema = z.object({ not_modified: z.boolean().optional() }).optional();
export type MembershipResponse = z.infer<typeof MembershipResponseSchema>;

/** DELETE /contact: 200 `{}` or 204 without a body. */
export const EmptyResponseSchema = z.object({}).optional();

/** `GET /contacts/custom_fields`: a bare array. */
export const CustomFieldsResponseSchema = z.array(z.object({ name: z.string(), fieldType: z.string() }));
export type CustomFieldsResponse = z.infer<typeof CustomFieldsResponseSchema>;

/** `GET /account`: shape undocumented; only that it is an object is checked. */
export const AccountResponseSchema = z.record(z.string(), z.unknown());
export type AccountResponse = z.infer<typeof AccountResponseSchema>;
