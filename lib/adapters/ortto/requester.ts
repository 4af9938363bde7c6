import { DEFAULT_TIMEOUT_MS, defaultHttpAgent, type HttpAgent, send } from '#lib/adapters/http/transport.ts';
import type { OrttoRegion } from '#lib/domain/connection.ts';
import { FatalRunError } from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import type { Exchange } from './answers.ts';
import { BadRequestGuard } from './bad-request-guard.ts';
import { classifyNetworkError } from './errors.ts';

export type { OrttoRegion };

/** Each region's host; a key works only on its own region's (docs/ortto.md#regions). */
export const ORTTO_HOSTS: Readonly<Record<OrttoRegion, string>> = {
  global: 'api.ap3api.com',
  eu: 'api.eu.ap3api.com',
  au: 'api.au.ap3api.com',
};

export const orttoBaseUrl = (region: OrttoRegion): string => {
  const host = Object.hasOwn(ORTTO_HOSTS, region) ? ORTTO_HOSTS[region] : undefined;
  if (host === undefined)
    throw new FatalRunError(
      `Unknown Ortto region ${String(region).slice(0, 20)}: expected global, eu or au`,
      'configuration',
    );
  return `https://${host}/v1`;
};

/** Request shapes, as reported to {@link RequestHooks} so one rate budget governs them all. */
export type OrttoRequestKind = 'merge' | 'personGet' | 'tagsGet' | 'customFieldGet' | 'customFieldCreate';

export interface OrttoConnectionOptions {
  apiKey: string;
  /** Default 'global'. */
  region?: OrttoRegion;
  /** Replaces the region's `https://<host>/v1` (the stand-in: `standIn.urls.eu`). */
  baseUrl?: string;
  /** Keep-alive pools shared per execution environment; default: the process-wide one. */
  agent?: HttpAgent;
  /** Whole-request deadline (connect, headers and body); default 30 s. */
  timeoutMs?: number;
  hooks?: RequestHooks;
  /** Shared by clients sending from one address; default: one of this client's own. */
  guard?: BadRequestGuard;
}

/**
 * Sends one JSON POST (Ortto's reads are POSTs too) through the hooks and the bad-request guard, and
 * returns whatever answer came back; throws only when none did (classified), or when the guard stops.
 */
export class OrttoRequester {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;
  private readonly hooks: RequestHooks | undefined;
  readonly guard: BadRequestGuard;
  readonly secrets: readonly string[];

  constructor(options: OrttoConnectionOptions) {
    if (options.apiKey.trim() === '')
      throw new FatalRunError('The Ortto API key is empty', 'missing_api_key');
    this.baseUrl = (options.baseUrl ?? orttoBaseUrl(options.region ?? 'global')).replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.agent = options.agent ?? defaultHttpAgent();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.hooks = options.hooks;
    this.guard = options.guard ?? new BadRequestGuard();
    this.secrets = [options.apiKey];
  }

  /** `body` is the JSON text, serialised by the caller (which may have measured it). */
  async post(kind: OrttoRequestKind, path: string, body: string): Promise<Exchange> {
    const ctx = { route: `POST /v1${path}` };
    this.guard.check();
    await this.hooks?.beforeRequest(kind);
    // Checked again: another request of this client may have been the last bad one while we waited.
    this.guard.check();
    const controller = new AbortController();
    const timeoutMs = Math.max(
      1,
      Math.min(this.timeoutMs, this.hooks?.timeLeftMs?.() ?? Number.POSITIVE_INFINITY),
    );
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = performance.now();
    let status = 0;
    try {
      const res = await send(`${this.baseUrl}${path}`, {
        agent: this.agent,
        method: 'POST',
        headers: { 'X-Api-Key': this.apiKey, 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
        signal: controller.signal,
      });
      status = res.status;
      const retryAfter = res.headers['retry-after'];
      return { status, text: res.text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (err) {
      throw classifyNetworkError(ctx, err, this.secrets, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
      this.guard.record(status);
      this.hooks?.afterResponse(kind, status, performance.now() - started);
    }
  }
}
