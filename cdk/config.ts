import * as z from 'zod';
import {
  SEGMENT_CONTEXT_SHAPE,
  type SegmentsConfig,
  segmentContextIssues,
  toSegmentsConfig,
} from './segment-config.ts';

/**
 * Senders running at once unless configured. The send queue is FIFO with a message group per send
 * lane of a connection (lib/use-cases/planning/lanes.ts): batches of many requests share one lane,
 * so one sender works them; one-request batches (bulk upserts, Ortto merges) go round as many lanes
 * as the budget keeps requests in flight (3 at 5/s, 5 at 10/s). Ten is one connection's most lanes,
 * or a few connections sending at once; an invocation that has nothing to do costs nothing.
 */
export const DEFAULT_SENDER_MAX_CONCURRENCY = 10;

/**
 * Deploy settings, read from CDK context (`-c key=value` on the command line, or the `context`
 * block of cdk.json) and validated before any construct is created. A bad value stops the synth
 * with an error that names the key and why.
 */

/** Names shared with the runtime code. cdk/ imports no runtime code; test/infra checks they match. */
export const SERVICE_NAME = 'autopilot-export';
export const METRICS_NAMESPACE = 'AutopilotExport';
export const SECRET_PREFIX = 'autopilot-export/connections/';

/** The context keys this app reads; anything else in the context is CDK's own. */
export const CONTEXT_KEYS = [
  'refreshCron',
  'timeZone',
  'oidcIssuer',
  'oidcAudience',
  'senderMaxConcurrency',
  'defaultRatePerSecond',
  'alertEmail',
  'autopilotBaseUrl',
  'stallAfterMinutes',
  'auditRetentionDays',
  'consoleClientId',
  'signInDomainPrefix',
  'consoleDomainName',
  'consoleCertificateArn',
  'consoleWebAclArn',
  'segmentSource',
  'refreshRetentionDays',
  'segmentUploaderPrincipals',
  'segmentUploaderExternalId',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** `-c key=` arrives as an empty string: treat it as "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const CRON_FIELD = /^[0-9A-Z*?,/#LW-]+$/;

/**
 * An EventBridge Scheduler cron: six fields (minutes hours day-of-month month day-of-week year),
 * with `?` in exactly one of day-of-month and day-of-week. `cron(...)` around it is accepted.
 */
const CronSchema = z
  .string()
  .trim()
  .transform((v) => v.replace(/^cron\((.*)\)$/, '$1').trim())
  .superRefine((cron, ctx) => {
    const fields = cron.split(/\s+/);
    if (fields.length !== 6) {
      ctx.addIssue({
        code: 'custom',
        message: `must have 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length} in "${cron}"; e.g. "0 2 * * ? *"`,
      });
      return;
    }
    const bad = fields.find((f) => !CRON_FIELD.test(f.toUpperCase()));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `field "${bad}" of "${cron}" is not a cron field` });
    }
    const [, , dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      ctx.addIssue({
        code: 'custom',
        message: `exactly one of day-of-month and day-of-week must be "?" (EventBridge Scheduler rule), got "${cron}"`,
      });
    }
  });

const isIanaTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });

/** A string checked by a regex, bounded first so the regex never sees a long input. */
const matching = (max: number, pattern: RegExp, message: string) =>
  z.string().trim().max(max, `must be at most ${max} characters`).regex(pattern, message);

/** Cognito's rule for a domain prefix: lowercase letters, digits and inner hyphens; no AWS names. */
const DomainPrefixSchema = matching(
  63,
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  'must be 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen',
).refine(
  (v) => !/aws|amazon|cognito/.test(v),
  'must not contain "aws", "amazon" or "cognito" (Cognito refuses them)',
);

const ContextSchema = z
  .object({
    refreshCron: CronSchema.default('0 2 * * ? *'),
    timeZone: z
      .string()
      .trim()
      .refine(isIanaTimeZone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"')
      .default('UTC'),
    oidcIssuer: optional(httpsUrl),
    /** One audience or a comma-separated list (the JWT `aud` / `client_id` values accepted). */
    oidcAudience: optional(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((a) => a.trim())
            .filter((a) => a.length > 0),
        )
        .pipe(z.array(z.string()).min(1, 'must name at least one audience')),
    ),
    senderMaxConcurrency: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(2, 'must be at least 2 (the lowest maximum concurrency Lambda allows for an SQS event source)')
      .max(1000, 'must be at most 1000 (the Lambda limit for an SQS event source)')
      .default(DEFAULT_SENDER_MAX_CONCURRENCY),
    defaultRatePerSecond: z.coerce
      .number({ error: 'must be a number' })
      .positive('must be greater than 0 (requests per second)')
      .max(100, 'must be at most 100 requests per second')
      .optional(),
    alertEmail: optional(z.email('must be an e-mail address')),
    autopilotBaseUrl: httpsUrl.optional(),
    stallAfterMinutes: z.coerce
      .number({ error: 'must be a whole number of minutes' })
      .int('must be a whole number of minutes')
      .min(
        20,
        'must be at least 20 minutes (a healthy run can be quiet for 15: a planner invocation or a retry delay)',
      )
      .max(1440, 'must be at most 1440 minutes (a day)')
      .default(30),
    auditRetentionDays: z.coerce
      .number({ error: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1 day')
      .max(3650, 'must be at most 3650 days (ten years)')
      .default(400),
    /** The console's OIDC client at an external issuer (public client, authorization code + PKCE). */
    consoleClientId: optional(
      matching(255, /^[\w.~:@/+=-]+$/, 'must be a client id (letters, digits and . _ ~ : @ / + = -)'),
    ),
    signInDomainPrefix: optional(DomainPrefixSchema),
    consoleDomainName: optional(
      matching(
        253,
        /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'must be a lowercase DNS name such as "exports.example.com"',
      ),
    ),
    consoleCertificateArn: optional(
      matching(
        200,
        /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/,
        'must be an ACM certificate ARN in us-east-1 (CloudFront takes certificates from us-east-1 only)',
      ),
    ),
    consoleWebAclArn: optional(
      matching(
        300,
        /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]{1,128}\/[0-9a-f-]{36}$/,
        'must be the ARN of a WAF web ACL with CloudFront scope (arn:aws:wafv2:us-east-1:<account>:global/webacl/…)',
      ),
    ),
    ...SEGMENT_CONTEXT_SHAPE,
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if ((c.oidcIssuer === undefined) !== (c.oidcAudience === undefined)) {
      issue(
        c.oidcIssuer === undefined ? 'oidcIssuer' : 'oidcAudience',
        'is required when the other of oidcIssuer/oidcAudience is set (leave both out to use the Cognito user pool)',
      );
    }
    if (c.oidcIssuer !== undefined && c.consoleClientId === undefined) {
      issue(
        'consoleClientId',
        'is required with oidcIssuer: the console signs in with this client at the issuer',
      );
    }
    if (c.oidcIssuer === undefined && c.consoleClientId !== undefined) {
      issue(
        'consoleClientId',
        "is only for oidcIssuer: with the Cognito pool the stack creates the console's client",
      );
    }
    if (c.oidcIssuer !== undefined && c.signInDomainPrefix !== undefined) {
      issue(
        'signInDomainPrefix',
        'is only for the Cognito pool: with oidcIssuer the issuer hosts the sign-in',
      );
    }
    if ((c.consoleDomainName === undefined) !== (c.consoleCertificateArn === undefined)) {
      issue(
        c.consoleDomainName === undefined ? 'consoleDomainName' : 'consoleCertificateArn',
        'is required when the other of consoleDomainName/consoleCertificateArn is set (the certificate must cover the name)',
      );
    }
    segmentContextIssues(c, issue);
  });

/** Without a regex: `/\/+$/` backtracks quadratically on a long run of slashes. */
const trimTrailingSlashes = (url: string): string => {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return url.slice(0, end);
};

/** Validated deploy settings. */
export interface DeployConfig {
  refreshCron: string;
  timeZone: string;
  /**
   * Absent: the stateful stack creates a Cognito user pool and the API trusts it. `consoleClientId`
   * is the console's client at the issuer; the API accepts it as an audience too.
   */
  oidc?: { issuer: string; audience: string[]; consoleClientId: string };
  senderMaxConcurrency: number;
  /** Absent: new connections get the destination's documented rate (the client's own constant). */
  defaultRatePerSecond?: number;
  alertEmail?: string;
  /** Absent: the Autopilot client's own base URL. Set for a proxy or a stand-in. */
  autopilotBaseUrl?: string;
  /** A run with no progress for this long is ended by the watchdog as stalled. */
  stallAfterMinutes: number;
  /** Days an audit entry is kept after its change (DynamoDB TTL). */
  auditRetentionDays: number;
  console: ConsoleConfig;
  /** The segment bucket and who reads and fills it (cdk/segment-config.ts). */
  segments: SegmentsConfig;
}

/** Where the console is served and how its users sign in. */
export interface ConsoleConfig {
  /** Cognito managed login's domain prefix. Absent: derived from the stateful stack's name and account. */
  signInDomainPrefix?: string;
  /** Absent: the distribution's `*.cloudfront.net` name and certificate. */
  domain?: { name: string; certificateArn: string };
  /** A WAF web ACL (CloudFront scope) in front of the console and the API. */
  webAclArn?: string;
}

export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/** Validates raw context values (strings from `-c`, any JSON type from cdk.json). */
export const parseDeployConfig = (raw: Partial<Record<ContextKey, unknown>>): DeployConfig => {
  const result = ContextSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(context)');
      const got = raw[key as ContextKey];
      return `  - ${key}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    });
    throw new DeployConfigError(
      `Invalid deploy config in CDK context (set with -c key=value or cdk.json "context"):\n${lines.join('\n')}`,
    );
  }
  const c = result.data;
  return {
    refreshCron: c.refreshCron,
    timeZone: c.timeZone,
    ...(c.oidcIssuer && c.oidcAudience && c.consoleClientId
      ? { oidc: { issuer: c.oidcIssuer, audience: c.oidcAudience, consoleClientId: c.consoleClientId } }
      : {}),
    senderMaxConcurrency: c.senderMaxConcurrency,
    ...(c.defaultRatePerSecond === undefined ? {} : { defaultRatePerSecond: c.defaultRatePerSecond }),
    ...(c.alertEmail ? { alertEmail: c.alertEmail } : {}),
    ...(c.autopilotBaseUrl === undefined
      ? {}
      : { autopilotBaseUrl: trimTrailingSlashes(c.autopilotBaseUrl) }),
    stallAfterMinutes: c.stallAfterMinutes,
    auditRetentionDays: c.auditRetentionDays,
    console: {
      ...(c.signInDomainPrefix === undefined ? {} : { signInDomainPrefix: c.signInDomainPrefix }),
      ...(c.consoleDomainName && c.consoleCertificateArn
        ? { domain: { name: c.consoleDomainName, certificateArn: c.consoleCertificateArn } }
        : {}),
      ...(c.consoleWebAclArn === undefined ? {} : { webAclArn: c.consoleWebAclArn }),
    },
    segments: toSegmentsConfig(c),
  };
};

/** Reads this app's keys from a construct's context (the App's, in practice). */
export const readDeployConfig = (scope: { node: { tryGetContext(key: string): unknown } }): DeployConfig =>
  parseDeployConfig(Object.fromEntries(CONTEXT_KEYS.map((k) => [k, scope.node.tryGetContext(k)])));
