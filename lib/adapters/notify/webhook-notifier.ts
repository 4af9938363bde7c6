import { webhookSecretId, webhookUrlProblem } from '#lib/domain/export-config.ts';
import type { Clock } from '#lib/ports/clock.ts';
import type { Logger } from '#lib/ports/logger.ts';
import type { Metrics } from '#lib/ports/metrics.ts';
import type { HealthChange, Notifier } from '#lib/ports/notifier.ts';
import type { SecretProvider } from '#lib/ports/secret-provider.ts';
import { webhookBody } from './webhook-body.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';

export interface WebhookOptions {
  /** Reads the export's signing secret (kept beside the connection keys, see `webhookSecretId`). */
  secrets: Pick<SecretProvider, 'getApiKey'>;
  clock: Clock;
  logger: Logger;
  /** Plain HTTP to 127.0.0.1 (local mode only). */
  allowLoopbackHttp?: boolean;
  /** Counts deliveries given up (`WebhookDeliveriesFailed`, alarmed on in AWS). */
  metrics?: Metrics;
  /** Where the run link points; the API's run path without it. */
  consoleUrl?: string;
  /** Longest wait for one attempt's answer. Default 5 s. */
  timeoutMs?: number;
  /**
   * Waits before each retry: 4 attempts over about 30 s by default, within the watchdog's minute
   * and far within the planner's and the sender's timeouts.
   */
  retryDelaysMs?: readonly number[];
  fetch?: typeof fetch;
}

const DEFAULT_DELAYS_MS = [2_000, 8_000, 20_000] as const;

/** A 5xx, a 429 or no answer at all may pass; any other refusal will not, however often it is asked. */
const retryable = (status: number | undefined): boolean =>
  status === undefined || status === 429 || status >= 500;

/**
 * Delivers health changes to the export's own webhook (docs/architecture.md#notifications): a signed
 * Slack-compatible JSON body, retried with back-off on network errors, 429 and 5xx. A delivery that
 * fails is logged with its status (never the secret or the URL's query) and counted; it never throws,
 * the topic has been told anyway.
 */
export class WebhookNotifier implements Notifier {
  readonly #o: WebhookOptions;
  readonly #fetch: typeof fetch;

  constructor(options: WebhookOptions) {
    this.#o = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async healthChanged(change: HealthChange): Promise<void> {
    const url = change.webhookUrl;
    if (url === undefined) return;
    const log = this.#o.logger.child({ exportId: change.exportId, runId: change.run.id });
    const problem = webhookUrlProblem(url, this.#o.allowLoopbackHttp === true);
    if (problem !== undefined) return this.#failed(log, { reason: `webhook URL ${problem}`, attempts: 0 });
    let secret: string;
    try {
      secret = await this.#o.secrets.getApiKey(webhookSecretId(change.exportId));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return this.#failed(log, { reason: `signing secret unreadable (${name})`, attempts: 0 });
    }
    const body = webhookBody(change, this.#o.consoleUrl);
    const delays = this.#o.retryDelaysMs ?? DEFAULT_DELAYS_MS;
    let last: { status?: number; error?: string } = {};
    for (let attempt = 1; attempt <= delays.length + 1; attempt += 1) {
      last = await this.#attempt(url, secret, body);
      if (last.status !== undefined && last.status >= 200 && last.status < 300) {
        log.info('webhook delivered', { status: last.status, attempts: attempt });
        return;
      }
      if (!retryable(last.status)) return this.#failed(log, { ...last, attempts: attempt });
      const delay = delays[attempt - 1];
      if (delay !== undefined) await this.#o.clock.sleep(delay);
    }
    this.#failed(log, { ...last, attempts: delays.length + 1 });
  }

  /**
   * The hold itself reaches the webhook as a health change (`held`) once the guardrail records it as
   * one; this call carries no webhook URL.
   */
  async runHeld(): Promise<void> {}

  /** Refreshes belong to no export, so no export's webhook hears of them. */
  async refreshRejected(): Promise<void> {}

  async #attempt(url: string, secret: string, body: string): Promise<{ status?: number; error?: string }> {
    const timestamp = Math.floor(this.#o.clock.now() / 1000);
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'autopilot-export-webhook/1',
          [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
        },
        body,
        // A redirect would carry the signed body somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5_000),
      });
      // Drain the body so the connection can be reused; what it says is not ours to log.
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      return { error: error instanceof Error ? error.name : 'Error' };
    }
  }

  #failed(log: Logger, fields: { status?: number; error?: string; reason?: string; attempts: number }): void {
    this.#o.metrics?.count('WebhookDeliveriesFailed');
    log.error('webhook delivery failed', fields);
  }
}
