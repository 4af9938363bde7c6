import { defaultHttpAgent, type HttpAgent } from '#lib/adapters/http/transport.ts';
import type { OrttoRegion } from '#lib/domain/connection.ts';
import type { CostModel } from '#lib/domain/costs.ts';
import type { Destination, DestinationSession, RequestHooks } from '#lib/ports/destination.ts';
import { OrttoClient } from './client.ts';
import { orttoCosts } from './cost-model.ts';
import { FieldIds } from './field-ids.ts';
import { OrttoSession } from './session.ts';

export interface OrttoDestinationOptions {
  region: OrttoRegion;
  /** Replaces the region's `https://<host>/v1` (the stand-in's per-region URL). */
  baseUrl?: string;
  agent?: HttpAgent;
  timeoutMs?: number;
}

/**
 * Ortto behind the Destination port, for one region. Membership is one tag per segment (Ortto's
 * public API cannot add people to an audience). Build once per execution environment: it keeps
 * each account's custom-field ids, so a key's fields are looked up once, not once per batch.
 */
export class OrttoDestination implements Destination {
  readonly name = 'ortto';
  readonly membershipModes = ['tag'] as const;
  readonly costs: CostModel = orttoCosts;
  private readonly fieldIds = new FieldIds();

  constructor(private readonly options: OrttoDestinationOptions) {}

  open(apiKey: string, hooks?: RequestHooks): DestinationSession {
    const { region, baseUrl, timeoutMs } = this.options;
    const client = new OrttoClient({
      apiKey,
      region,
      agent: this.options.agent ?? defaultHttpAgent(),
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(hooks === undefined ? {} : { hooks }),
    });
    return new OrttoSession(client, this.fieldIds.forKey(apiKey));
  }
}
