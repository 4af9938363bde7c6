import * as z from 'zod';

export const RunStatusSchema = z.enum([
  'planning',
  /** The removal guardrail held the plan's removals: an admin approves or rejects them. */
  'awaiting_approval',
  'sending',
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
  'skipped',
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunTriggerSchema = z.enum(['schedule', 'on-demand', 'dry-run']);
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

/** Most contacts one re-send or retry names: a small run, within one planner invocation's memory. */
export const MAX_NAMED_CONTACTS = 1_000;

/**
 * A run that touches only the contacts it names (docs/architecture.md#re-send-and-retry): `resend`
 * for one contact a person named, `retry` for the contacts that failed in an earlier run. Emails are
 * normalised keys (lower-cased); they are never shown in a response.
 */
export const ContactFilterSchema = z.object({
  kind: z.enum(['resend', 'retry']),
  emails: z.array(z.string().min(3).max(254)).min(1).max(MAX_NAMED_CONTACTS),
});
export type ContactFilter = z.infer<typeof ContactFilterSchema>;

const TERMINAL: ReadonlySet<RunStatus> = new Set([
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
  'skipped',
]);

export const isTerminal = (status: RunStatus): boolean => TERMINAL.has(status);

const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  planning: ['awaiting_approval', 'sending', 'succeeded', 'completed_with_errors', 'failed', 'cancelled'],
  // Approving or rejecting moves it on to sending; nothing is planned again.
  awaiting_approval: ['sending', 'failed', 'cancelled'],
  sending: ['succeeded', 'completed_with_errors', 'failed', 'cancelled'],
  succeeded: [],
  completed_with_errors: [],
  failed: [],
  cancelled: [],
  skipped: [],
};

export const canTransition = (from: RunStatus, to: RunStatus): boolean => NEXT[from].includes(to);

/** Counters that decide how a run that sent everything it planned ends. */
export interface SendTotals {
  accepted: number;
  failed: number;
  dropped: number;
}

/**
 * How a run ends once every batch is accounted for: any contact that could not be delivered makes it
 * `completed_with_errors`; profiles skipped during planning (invalid emails) do not, they are reported.
 */
export const finalStatus = (totals: SendTotals): 'succeeded' | 'completed_with_errors' =>
  totals.failed > 0 || totals.dropped > 0 ? 'completed_with_errors' : 'succeeded';
