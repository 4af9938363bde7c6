import * as z from 'zod';
import { EXPORT_USER_LIMITS } from '#lib/domain/connection.ts';
import { DEFAULT_CAP } from '#lib/domain/export-config.ts';
import { idText, nameText } from '#lib/domain/validation.ts';

/** The data-privacy notice admins accept; a new version needs a new acceptance. */
export const PRIVACY_NOTICE_VERSION = '2026-11';

/**
 * Requests per second a connection may use. Autopilot documents 5/s and raises it per account on
 * request; below 0.1/s (one request in 10 s) a batch could not finish within a sender's lifetime.
 */
export const ratePerSecond = z
  .number()
  .min(0.1, 'must be at least 0.1 (one request every 10 seconds)')
  .max(1000, 'must be at most 1000');

export const apiKey = z
  .string()
  .trim()
  .min(8, 'is too short to be an Autopilot API key')
  .max(256, 'is too long to be an Autopilot API key')
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces or non-printable characters');

/**
 * The users (besides admins) who may write and run exports on a connection even when it is not
 * shared with contributors. Each id appears once: a repeat is refused where it stands, so the
 * admin sees which entry to remove.
 */
export const exportUsers = z
  .array(
    z
      .object({
        id: idText().meta({
          description:
            "The user's subject id (the token's `sub`, as `GET /me` answers it): 1 to 256 bytes, no control " +
            'characters, each id once',
        }),
        label: nameText(EXPORT_USER_LIMITS.labelChars)
          .optional()
          .meta({ description: 'A display name for admins; never used to match the user' }),
      })
      .strict(),
  )
  .max(EXPORT_USER_LIMITS.users, `must list at most ${EXPORT_USER_LIMITS.users} users`)
  .superRefine((users, ctx) => {
    const seen = new Set<string>();
    users.forEach((user, i) => {
      if (seen.has(user.id)) {
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'is a duplicate: each user appears once' });
      }
      seen.add(user.id);
    });
  })
  .meta({
    description:
      'Contributors listed here may write and run exports on this connection even when it is shared with ' +
      'admins only (matched by id; viewers stay read-only)',
  });

export const CreateConnectionInputSchema = z
  .object({
    displayName: nameText(200),
    apiKey,
    consent: z.object({
      accepted: z.literal(true, 'must be true: an admin has to accept the data-privacy notice'),
      noticeVersion: z.literal(
        PRIVACY_NOTICE_VERSION,
        `must be "${PRIVACY_NOTICE_VERSION}", the current notice`,
      ),
    }),
    sharing: z.enum(['admins', 'admins+contributors']).default('admins'),
    cap: z.number().int().positive().max(10_000_000).default(DEFAULT_CAP),
    exportUsers: exportUsers.default([]),
    // No default here: the deployment's default applies (createConnection).
    ratePerSecond: ratePerSecond.optional().meta({
      description:
        "Default: the deployment's defaultRatePerSecond, else the destination's documented rate (Autopilot: 5).",
    }),
  })
  .strict();
export type CreateConnectionInput = z.input<typeof CreateConnectionInputSchema>;

export const UpdateConnectionInputSchema = z
  .object({
    /** The version the caller last read; a concurrent edit makes the update fail with 409. */
    version: z.number().int().min(1),
    displayName: nameText(200).optional(),
    sharing: z.enum(['admins', 'admins+contributors']).optional(),
    cap: z.number().int().positive().max(10_000_000).optional(),
    ratePerSecond: ratePerSecond.optional(),
    /** Replaces the whole list: send every user who should stay. */
    exportUsers: exportUsers.optional(),
  })
  .strict();

export const RotateKeyInputSchema = z
  .object({
    apiKey,
    newAccount: z
      .boolean()
      .optional()
      .meta({
        description:
          'Confirms the key opens a different Autopilot account: every export on the connection forgets what it ' +
          'sent and sends everything again on its next run.',
      }),
  })
  .strict();
