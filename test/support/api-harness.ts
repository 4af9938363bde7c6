import type { ApiDeps } from '#functions/api/deps.ts';
import { createApiHandler } from '#functions/api/handler.ts';
import type { OrttoRegion } from '#lib/domain/connection.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import type { LocalRuntime } from '#local/runtime.ts';
import { InMemoryOrttoDestination } from '#test/fakes/in-memory-destination.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { PipelineHarness } from './pipeline-harness.ts';

export type Token =
  | 'dev-admin'
  | 'dev-contributor'
  | 'dev-contributor-2'
  | 'dev-viewer'
  | 'dev-nobody'
  | 'none';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
  body: any;
  text: string;
}

/**
 * The real API handler behind the local API Gateway, over in-memory
 * fakes of every port: the same path a request takes in AWS, minus the network.
 */
export const API_KEY = 'ap-key-0123456789abcdef';

/** A key of an Ortto account in the `global` region (the only region where it works). */
export const ORTTO_KEY = 'ortto-key-0123456789abcdef';

export class ApiHarness extends PipelineHarness {
  readonly logger = new RecordingLogger();

  private readonly orttoRegions = new Map<OrttoRegion, InMemoryOrttoDestination>();

  constructor() {
    super();
    this.destination.validKeys.add(API_KEY);
    this.ortto('global').validKeys.add(ORTTO_KEY);
  }

  /** The Ortto fake of one region (made on first use): Ortto connections' keys are checked there. */
  ortto(region: OrttoRegion = 'global'): InMemoryOrttoDestination {
    let fake = this.orttoRegions.get(region);
    if (fake === undefined) {
      fake = new InMemoryOrttoDestination(region);
      this.orttoRegions.set(region, fake);
    }
    return fake;
  }

  /** Autopilot connections on `destination`; Ortto ones on their region's fake. */
  readonly destinations: Destinations = {
    for: (address) => (address.type === 'ortto' ? this.ortto(address.region ?? 'global') : this.destination),
  };
  private seq = 0;
  readonly responses: string[] = [];
  /** The deployment's `defaultRatePerSecond`; undefined when the deploy config leaves it out. */
  defaultRatePerSecond: number | undefined = 5;
  /** The deployment's key-check deadline (real milliseconds). */
  keyCheckTimeoutMs = 6_000;

  get apiDeps(): ApiDeps {
    return {
      state: this.state,
      segments: this.segments,
      secrets: this.secrets,
      destinations: this.destinations,
      planQueue: this.planQueue,
      notifier: this.notifier,
      clock: this.clock,
      logger: this.logger,
      metrics: noMetrics,
      newId: (kind) => `api-${kind}-${String(++this.seq).padStart(4, '0')}`,
      maxBodyBytes: 64 * 1024,
      defaultRatePerSecond: this.defaultRatePerSecond,
      keyCheckTimeoutMs: this.keyCheckTimeoutMs,
    };
  }

  async call(
    method: string,
    url: string,
    options: {
      token?: Token;
      body?: unknown;
      raw?: string;
      contentType?: string;
      /** Sent as is instead of `Bearer <token>`. */
      authorization?: string;
    } = {},
  ): Promise<Reply> {
    const handler = createApiHandler(this.apiDeps);
    const gateway = { handlers: { api: handler } } as unknown as LocalRuntime;
    const token = options.token ?? 'dev-admin';
    const headers: Record<string, string> = {};
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    else if (token !== 'none') headers.authorization = `Bearer ${token}`;
    const raw = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (raw !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await invokeLocalApi(gateway, {
      method,
      url,
      headers,
      ...(raw === undefined ? {} : { body: raw }),
    });
    this.responses.push(res.body);
    return {
      status: res.status,
      headers: res.headers,
      text: res.body,
      body: res.body ? JSON.parse(res.body) : undefined,
    };
  }
}

export const validConnection = (overrides: Record<string, unknown> = {}) => ({
  displayName: 'Marketing',
  apiKey: API_KEY,
  consent: { accepted: true, noticeVersion: '2026-11' },
  ...overrides,
});

/** An Ortto connection in the `global` region, as an admin creates it. */
export const validOrttoConnection = (overrides: Record<string, unknown> = {}) =>
  validConnection({ displayName: 'Ortto marketing', type: 'ortto', apiKey: ORTTO_KEY, ...overrides });

/** The editable configuration of an export view: what a client sends back in a PUT. */
const CONFIG_KEYS = [
  'name',
  'connectionId',
  'segmentIds',
  'dataMatching',
  'membership',
  'onLeave',
  'listTitles',
  'membershipFields',
  'membershipTags',
  'adoptExistingLists',
  'cap',
  'capPolicy',
  'scheduled',
] as const;

export const editable = (view: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(CONFIG_KEYS.map((k) => [k, view[k]]));
