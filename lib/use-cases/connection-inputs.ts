import * as z from 'zod';
import { DESTINATION_TYPES, EXPORT_USER_LIMITS, ORTTO_REGIONS } from '#lib/domain/connection.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { DEFAULT_CAP } from '#lib/domain/export-config.ts';
import { type Issue, idText, nameText } from '#lib/domain/validation.ts';

/** The data-privacy notice admins accept; a new version needs a new acceptance. */
export const PRIVACY_NOTICE_VERSION = '2026-11';

/**
 * Requests per second a connection may use. Autopilot documents 5/s and raises it per account on
 * request; Ortto 10/s on its lowest plans, configurable per account; below 0.1/s (one request in 10 s) a batch could not finish within a sender's lifetime.
 */
export const ratePerSecond = z
  .number()
  .min(0.1, 'must be at least 0.1 (one request every 10 seconds)')
  .max(1000, 'must be at most 1000');

export const apiKey = z
  .string()
  .trim()
  .min(8, 'is too short to be an API key')
  .max(256, 'is too long to be an API key')
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

const ORTTO_ONLY = 'applies to Ortto connections only; leave it out for an Autopilot connection';

export const CreateConnectionInputSchema = z
  .object({
    displayName: nameText(200),
    type: z
      .enum(DESTINATION_TYPES)
      .default('autopilot')
      .meta({ description: 'The platform the key opens; it cannot change afterwards' }),
    // No default here: `global` applies to Ortto only (createConnection), and Autopilot refuses any.
    region: z
      .enum(ORTTO_REGIONS)
      .optional()
      .meta({
        description:
          "Ortto only (default `global`): the account's data region. A key works only in its region, so it " +
          'cannot change afterwards: another region is another connection',
      }),
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
        "Default: the deployment's defaultRatePerSecond, else the destination's documented rate " +
        '(Autopilot: 5, Ortto: 10).',
    }),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.type !== 'ortto' && input.region !== undefined)
      ctx.addIssue({ code: 'custom', path: ['region'], message: ORTTO_ONLY });
  });
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
          'Confirms the key opens a different account: every export on the connection forgets what it sent and ' +
          'sends everything again on its next run. Autopilot keys are compared with the lists the exports ' +
          'filled, and a key of another account is refused without it; Ortto offers no such check, so ' +
          'for Ortto only this flag tells the product the account changed.',
      }),
  })
  .strict();

/**
 * What picks a connection's destination is fixed once it exists: a key belongs to one platform and,
 * on Ortto, one region. An edit or a rotation naming either is refused where it stands, saying what
 * to do instead (another region or platform is a new connection).
 */
export const refuseAddressChange = (input: unknown): void => {
  if (typeof input !== 'object' || input === null) return;
  const fixed: Issue[] = [];
  if (Object.hasOwn(input, 'type')) {
    fixed.push({
      path: 'type',
      reason: 'cannot change: a key opens one platform; for another, create a new connection',
    });
  }
  if (Object.hasOwn(input, 'region')) {
    fixed.push({
      path: 'region',
      reason:
        "cannot change: an Ortto key belongs to its account's region, so another region is a new " +
        'connection; create one with that region and its key',
    });
  }
  if (fixed.length > 0) throw new ValidationError(fixed);
};
