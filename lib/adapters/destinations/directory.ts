import type { DestinationAddress, OrttoRegion } from '#lib/domain/connection.ts';
import type { Destination, Destinations } from '#lib/ports/destination.ts';

export interface DestinationFactories {
  autopilot: () => Destination;
  ortto: (region: OrttoRegion) => Destination;
}

/**
 * Each connection's destination adapter, built on first use and kept for the execution
 * environment (adapters hold keep-alive pools and per-account caches).
 */
export class DestinationDirectory implements Destinations {
  private readonly built = new Map<string, Destination>();

  constructor(private readonly factories: DestinationFactories) {}

  for(address: DestinationAddress): Destination {
    const key = address.type === 'ortto' ? `ortto:${address.region ?? 'global'}` : 'autopilot';
    let destination = this.built.get(key);
    if (destination === undefined) {
      destination =
        address.type === 'ortto'
          ? this.factories.ortto(address.region ?? 'global')
          : this.factories.autopilot();
      this.built.set(key, destination);
    }
    return destination;
  }
}
