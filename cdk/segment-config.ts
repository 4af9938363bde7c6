import * as z from 'zod';

/*
 * Deploy settings of the segment front door: where the functions read segments, how long refresh
 * folders stay, and who may drop them from outside the account. Part of cdk/config.ts's schema;
 * kept apart because it is one concern with its own bounds.
 */

/** `s3`: refresh folders in the segment bucket (the front door); `dynamodb`: the segment table. */
export const SEGMENT_SOURCES = ['s3', 'dynamodb'] as const;
export type SegmentSourceKind = (typeof SEGMENT_SOURCES)[number];

export const RETENTION_DAYS = { default: 14, min: 1, max: 3650 } as const;

/**
 * Principals the upload role's trust policy may name: with ARNs of usual length (about 60
 * characters) the policy stays well inside IAM's default 2,048-character quota.
 */
export const UPLOADER_PRINCIPALS_MAX = 10;
const ARN_MAX_CHARS = 2048;
const IAM_NAME = '[\\w+=,.@-]{1,64}';
/** An account's root, or a role or user with an optional path. */
const PRINCIPAL_ARN = new RegExp(
  `^arn:aws[a-z-]*:iam::\\d{12}:(?:root|(?:role|user)/(?:[\\w+=,.@-]+/)*${IAM_NAME})$`,
);
const EXTERNAL_ID = { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]+$/ } as const;

/** `-c key=` arrives as an empty string: treat it as "not set". */
const blankIsUnset = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A comma-separated `-c` string or a cdk.json array, each entry checked by length before its pattern. */
const PrincipalsSchema = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p.length > 0)
      : v,
  z
    .array(z.string({ error: 'must be a list of IAM ARNs' }), { error: 'must be a list of IAM ARNs' })
    .min(1, 'must name at least one principal')
    .max(UPLOADER_PRINCIPALS_MAX, `must name at most ${UPLOADER_PRINCIPALS_MAX} principals`)
    .superRefine((arns, ctx) => {
      arns.forEach((arn, i) => {
        const problem =
          arn.length > ARN_MAX_CHARS
            ? `is longer than ${ARN_MAX_CHARS} characters`
            : PRINCIPAL_ARN.test(arn)
              ? undefined
              : 'is not the ARN of an account root, an IAM role or an IAM user (arn:aws:iam::123456789012:role/name)';
        if (problem) ctx.addIssue({ code: 'custom', path: [i], message: `entry ${i + 1} ${problem}` });
      });
    }),
);

/** The fields cdk/config.ts's context schema gains, by context key. */
export const SEGMENT_CONTEXT_SHAPE = {
  segmentSource: z.preprocess(
    blankIsUnset,
    z.enum(SEGMENT_SOURCES, { error: `must be one of ${SEGMENT_SOURCES.join(', ')}` }).default('s3'),
  ),
  refreshRetentionDays: z.preprocess(
    blankIsUnset,
    z.coerce
      .number({ error: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(RETENTION_DAYS.min, `must be at least ${RETENTION_DAYS.min} day`)
      .max(RETENTION_DAYS.max, `must be at most ${RETENTION_DAYS.max} days (ten years)`)
      .default(RETENTION_DAYS.default),
  ),
  segmentUploaderPrincipals: z.preprocess(blankIsUnset, PrincipalsSchema.optional()),
  segmentUploaderExternalId: z.preprocess(
    blankIsUnset,
    z
      .string()
      .trim()
      .min(EXTERNAL_ID.min, `must be at least ${EXTERNAL_ID.min} characters`)
      .max(EXTERNAL_ID.max, { error: `must be at most ${EXTERNAL_ID.max} characters`, abort: true })
      .regex(
        EXTERNAL_ID.pattern,
        'must be letters, digits and + = , . @ : / - _ only (the sts:ExternalId rule)',
      )
      .optional(),
  ),
};

type SegmentContext = {
  segmentSource: SegmentSourceKind;
  refreshRetentionDays: number;
  segmentUploaderPrincipals?: string[] | undefined;
  segmentUploaderExternalId?: string | undefined;
};

/** Who may assume the upload role, and the external id a third party must present. */
export interface SegmentUploaderConfig {
  principals: string[];
  externalId?: string;
}

export interface SegmentsConfig {
  source: SegmentSourceKind;
  /** Days a refresh folder's files stay before S3 expires them. */
  refreshRetentionDays: number;
  /** Absent: no upload role, only the upload policy (for principals of this account). */
  uploader?: SegmentUploaderConfig;
}

/** Rules across the segment keys. */
export const segmentContextIssues = (c: SegmentContext, issue: (path: string, message: string) => void) => {
  if (c.segmentUploaderExternalId !== undefined && c.segmentUploaderPrincipals === undefined) {
    issue(
      'segmentUploaderExternalId',
      'is only for segmentUploaderPrincipals: it is the condition on assuming the upload role',
    );
  }
};

export const toSegmentsConfig = (c: SegmentContext): SegmentsConfig => ({
  source: c.segmentSource,
  refreshRetentionDays: c.refreshRetentionDays,
  ...(c.segmentUploaderPrincipals === undefined
    ? {}
    : {
        uploader: {
          principals: [...new Set(c.segmentUploaderPrincipals)],
          ...(c.segmentUploaderExternalId === undefined ? {} : { externalId: c.segmentUploaderExternalId }),
        },
      }),
});
