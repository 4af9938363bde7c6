import * as z from 'zod';
import { ValidationError } from '#lib/domain/errors.ts';
import { toIssues } from '#lib/domain/validation.ts';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Settings every function reads from its environment at cold start. */
export const BaseEnvSchema = z.object({
  STATE_TABLE: z.string().min(1),
  SEGMENT_SOURCE: z.enum(['dynamodb', 'files', 's3']).default('dynamodb'),
  SEGMENT_TABLE: z.string().min(1).optional(),
  SEGMENT_DIR: z.string().min(1).optional(),
  /** The bucket of the refresh folders (`refreshes/<refreshId>/`) when SEGMENT_SOURCE is s3. */
  SEGMENT_BUCKET: z.string().min(3).max(63).optional(),
  /**
   * The column (CSV, Parquet) or key (JSONL) holding each profile's id in files and refreshes, as
   * the upstream platform writes it; `npm run drop -- --id-field` checks for the same name.
   */
  SEGMENT_ID_FIELD: z.string().min(1).max(200).default('id'),
  SECRET_PREFIX: z.string().min(1).default('autopilot-export/connections/'),
  /** Absent: the client's own base URL (lib/adapters/autopilot/client.ts). */
  AUTOPILOT_BASE_URL: z.url().optional(),
  /** One server for every Ortto region (the stand-in); absent: Ortto's regional hosts. */
  ORTTO_BASE_URL: z.url().optional(),
  AUTOPILOT_TIMEOUT_MS: int(30_000),
  NOTIFY_TOPIC_ARN: z.string().min(1).optional(),
  /** The console's address, for the run link in notifications (the API's run path without it). */
  CONSOLE_URL: z.url().optional(),
  /** Local mode only: an export's webhook may be plain http://127.0.0.1 (a receiver on loopback). */
  WEBHOOK_ALLOW_LOOPBACK: flag.default(false),
  /** Mask email addresses in error samples (logs are always masked). */
  MASK_EMAILS: flag.default(true),
  /** Days an audit entry is kept after its change (DynamoDB's TTL removes it then); 1 to 3650. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  POWERTOOLS_SERVICE_NAME: z.string().default('autopilot-export'),
});
export type BaseEnv = z.infer<typeof BaseEnvSchema>;

const segmentSourceRule = (env: BaseEnv, ctx: z.RefinementCtx): void => {
  if (env.SEGMENT_SOURCE === 'dynamodb' && env.SEGMENT_TABLE === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SEGMENT_TABLE'],
      message: 'required when SEGMENT_SOURCE is dynamodb',
    });
  }
  if (env.SEGMENT_SOURCE === 'files' && env.SEGMENT_DIR === undefined) {
    ctx.addIssue({ code: 'custom', path: ['SEGMENT_DIR'], message: 'required when SEGMENT_SOURCE is files' });
  }
  if (env.SEGMENT_SOURCE === 's3' && env.SEGMENT_BUCKET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['SEGMENT_BUCKET'], message: 'required when SEGMENT_SOURCE is s3' });
  }
};

export const PlannerEnvSchema = BaseEnvSchema.extend({
  PLAN_QUEUE_URL: z.url(),
  /** Where a plan message that can never be read goes at once (the plan queue's DLQ). */
  PLAN_DLQ_URL: z.url().optional(),
  SEND_QUEUE_URL: z.url(),
  PLANNER_PAGE_SIZE: int(1_000),
  PER_CONTACT_BATCH_SIZE: int(25),
  /** Checkpoint when less than this much time is left (the planner's timeout is minutes). */
  PLANNER_RESERVE_MS: int(60_000),
  /**
   * The bucket planner checkpoints live in (the segment bucket, under CHECKPOINT_PREFIX): one PUT per
   * checkpoint. Absent: the state table, in 300 KB chunks costing a write unit per KB.
   */
  CHECKPOINT_BUCKET: z.string().min(3).max(63).optional(),
  /** Key prefix of the checkpoints; the stack grants the planner this prefix only. */
  CHECKPOINT_PREFIX: z
    .string()
    .max(200)
    .regex(/^([A-Za-z0-9_.-]+\/)+$/, 'folder names of A-Z a-z 0-9 _ . - each ending in /')
    .default('state/checkpoints/'),
}).superRefine(segmentSourceRule);
export type PlannerEnv = z.infer<typeof PlannerEnvSchema>;

export const ApiEnvSchema = BaseEnvSchema.extend({
  PLAN_QUEUE_URL: z.url(),
  /**
   * Rate budget of a new connection when the admin gives none (deploy config). Absent: the
   * destination's documented rate. The bounds are those of a connection's own rate.
   */
  DEFAULT_RATE_PER_SECOND: z.coerce.number().min(0.1).max(1000).optional(),
  /**
   * Longest wait for Autopilot when checking an API key. Well inside the API function's timeout, so a
   * slow Autopilot is a 503 the admin can retry, never a timed-out function.
   */
  KEY_CHECK_TIMEOUT_MS: int(6_000),
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES: int(64 * 1024),
}).superRefine(segmentSourceRule);
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

export const SenderEnvSchema = BaseEnvSchema.extend({
  SEND_QUEUE_URL: z.url(),
  SEND_DLQ_URL: z.url(),
  SENDER_RESERVE_MS: int(20_000),
  /** Messages of one invocation processed at once (they share the connection's rate budget). */
  SENDER_PARALLELISM: int(5),
  /**
   * A failed batch is retried after this many seconds, doubling per receive (capped at 15 min),
   * instead of waiting out the queue's visibility timeout (6 × the function timeout).
   */
  SENDER_RETRY_BASE_SECONDS: int(30),
  /**
   * A batch handed back (out of time, rate-limited, held by another delivery) goes no sooner than this
   * after its delivery began; the FIFO send queue takes no delay, so the sender pauses for it.
   */
  SENDER_REQUEUE_DELAY_SECONDS: int(30),
  /**
   * The send queue's redrive `maxReceiveCount`: on that delivery a batch still failing transiently is
   * recorded as failed contacts (retried by the next run) instead of being left to the DLQ.
   */
  MAX_RECEIVE_COUNT: int(5),
});
export type SenderEnv = z.infer<typeof SenderEnvSchema>;

export const WatchdogEnvSchema = BaseEnvSchema.extend({
  /** A run with no progress for this long is ended as stalled (twice the longest healthy gap). */
  STALL_AFTER_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(30),
});
export type WatchdogEnv = z.infer<typeof WatchdogEnvSchema>;

/** Parses the environment once at cold start; a bad setting names the variable and why. */
export const loadEnv = <S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): z.output<S> => {
  const result = schema.safeParse(source);
  if (!result.success) {
    const issues = toIssues(result.error).map((i) => ({ path: i.path, reason: i.reason }));
    throw new ValidationError(issues.map((i) => ({ path: `env.${i.path}`, reason: i.reason })));
  }
  return result.data;
};

export const ONE_WEEK_MS = 7 * 24 * 3600_000;
