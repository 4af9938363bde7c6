import { describe, expect, it } from 'vitest';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import type { Connection } from '#lib/domain/connection.ts';
import { checkSelection } from '#lib/use-cases/segment-selection.ts';

const segments = [
  { id: 'a', name: 'A', profiles: 250 },
  { id: 'b', name: 'B', profiles: 120 },
];
const source = {
  listSegments: async () => segments,
};
const connectionWith = (bulk: 'supported' | 'unsupported', ratePerSecond: number) =>
  ({
    id: 'conn-1',
    cap: 100_000,
    ratePerSecond,
    bulkMembership: { state: bulk, checkedAt: '2026-01-01T00:00:00.000Z' },
  }) as unknown as Connection;

describe('a selection check estimates each membership mode before anything is saved', () => {
  it('prices list and field mode from the segment sizes, at the connection’s rate', async () => {
    const check = await checkSelection(
      {
        segments: source,
        connections: { get: async () => connectionWith('unsupported', 10) },
        costs: autopilotCosts,
      },
      { segmentIds: ['a', 'b'], connectionId: 'conn-1' },
    );
    // Field mode: 370 contacts in bulk upserts of 100. List mode without bulk list joins: one call each.
    expect(check.selection?.estimates).toEqual({
      list: { requests: 370, seconds: 37, upperBound: true },
      field: { requests: 4, seconds: 1, upperBound: true },
    });
  });

  it('prices list joins in bulk where the connection’s probe found them honoured', async () => {
    const check = await checkSelection(
      {
        segments: source,
        connections: { get: async () => connectionWith('supported', 5) },
        costs: autopilotCosts,
      },
      { segmentIds: ['a', 'b'], connectionId: 'conn-1' },
    );
    // Per segment: ceil(250/100) + ceil(120/100) = 3 + 2.
    expect(check.selection?.estimates?.list).toEqual({ requests: 5, seconds: 1, upperBound: true });
  });

  it('without a connection, prices at the documented rate with list joins one by one', async () => {
    const check = await checkSelection(
      { segments: source, connections: { get: async () => undefined }, costs: autopilotCosts },
      { segmentIds: ['b'] },
    );
    expect(check.selection?.estimates?.list).toEqual({ requests: 120, seconds: 24, upperBound: true });
  });
});
