import * as z from 'zod';

const iso = z.string().min(1);

/**
 * Bounds on the export users a connection names: `id` is the user's subject id (what the API records
 * as createdBy/updatedBy), `label` only a display name for admins (matching is by id: names and emails
 * can be reassigned).
 */
export const EXPORT_USER_LIMITS = { users: 100, idChars: 256, labelChars: 200 } as const;

/** A user a connection names: a contributor listed here may write and run exports on it. */
export const ExportUserSchema = z.object({
  id: z.string().min(1).max(EXPORT_USER_LIMITS.idChars),
  label: z.string().max(EXPORT_USER_LIMITS.labelChars).optional(),
});
export type ExportUser = z.infer<typeof ExportUserSchema>;

/** How many of a key's last characters admins see, to recognise which key is in use. */
export const KEY_HINT_CHARS = 4;

/**
 * The last {@link KEY_HINT_CHARS} characters of `key`; none for a key shorter than twice that, so a
 * hint never gives away half of a key or more. The key itself stays in the secret store.
 */
export const keyHintOf = (key: string): string | undefined =>
  key.length >= 2 * KEY_HINT_CHARS ? key.slice(-KEY_HINT_CHARS) : undefined;

/** The marketing platforms a connection may point at. */
export const DESTINATION_TYPES = ['autopilot', 'ortto'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** Ortto keeps each account in one region; a key works only against its region's host. */
export const ORTTO_REGIONS = ['global', 'eu', 'au'] as const;
export type OrttoRegion = (typeof ORTTO_REGIONS)[number];

/** Which platform, and where: what picks a connection's destination adapter. */
export interface DestinationAddress {
  type: DestinationType;
  /** Ortto only; absent means `global`. */
  region?: OrttoRegion | undefined;
}

/**
 * A connection as stored: one destination account (Autopilot or Ortto), its consent, sharing, cap
 * and rate budget (never its key).
 */
export const ConnectionSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().min(1).max(200),
  /** Items stored before Ortto existed are Autopilot connections. */
  type: z.enum(DESTINATION_TYPES).default('autopilot'),
  /** Ortto's data region (absent: `global`); never set on an Autopilot connection. */
  region: z.enum(ORTTO_REGIONS).optional(),
  /** `invalid_key`: the destination refused the key during a run; runs refuse to start until it is rotated. */
  status: z.enum(['active', 'invalid_key']),
  /** The current key's last characters ({@link keyHintOf}); items stored before hints existed have none. */
  keyHint: z.string().length(KEY_HINT_CHARS).optional(),
  consent: z.object({ acceptedBy: z.string().min(1), acceptedAt: iso, noticeVersion: z.string().min(1) }),
  sharing: z.enum(['admins', 'admins+contributors']),
  /** Items stored before export users existed have none. */
  exportUsers: z.array(ExportUserSchema).default([]),
  cap: z.number().int().positive(),
  ratePerSecond: z.number().positive(),
  bulkMembership: z.object({
    state: z.enum(['supported', 'unsupported', 'unknown']),
    checkedAt: iso.optional(),
    /** A probe in progress: which batch runs it (`runId#batchNo`) and since when (a stale claim may be taken over). */
    probe: z.object({ claimant: z.string(), startedAt: iso }).optional(),
    /**
     * The run whose own probe last confirmed `supported`. A run trusts bulk membership only after
     * confirming it itself (docs/architecture.md#probe): the answer of an earlier run is a belief, not evidence.
     */
    verifiedRun: z.string().optional(),
  }),
  createdBy: z.string(),
  createdAt: iso,
  updatedBy: z.string(),
  updatedAt: iso,
  version: z.number().int().min(1),
});
export type Connection = z.infer<typeof ConnectionSchema>;
