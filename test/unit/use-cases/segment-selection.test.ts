import { describe, expect, it } from 'vitest';
import type { Connection } from '#lib/domain/connection.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { checkSelection } from '#lib/use-cases/segment-selection.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';

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
        destinations: oneDestination(new InMemoryDestination()),
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
        destinations: oneDestination(new InMemoryDestination()),
      },
      { segmentIds: ['a', 'b'], connectionId: 'conn-1' },
    );
    // Per segment: ceil(250/100) + ceil(120/100) = 3 + 2.
    expect(check.selection?.estimates?.list).toEqual({ requests: 5, seconds: 1, upperBound: true });
  });

  it('without a connection, prices at the documented rate with list joins one by one', async () => {
    const check = await checkSelection(
      {
        segments: source,
        connections: { get: async () => undefined },
        destinations: oneDestination(new InMemoryDestination()),
      },
      { segmentIds: ['b'] },
    );
    expect(check.selection?.estimates?.list).toEqual({ requests: 120, seconds: 24, upperBound: true });
  });
});

describe('a selection check uses the smallest cap a run would apply', () => {
  const withCap = (cap: number) => ({ get: async () => ({ ...connectionWith('supported', 5), cap }) });

  it('the export’s own cap, below the connection’s, decides the verdict', async () => {
    const check = await checkSelection(
      { segments: source, connections: withCap(1_000) },
      { segmentIds: ['a'], connectionId: 'conn-1', cap: 200 },
    );
    expect(check.selection).toMatchObject({ cap: 200, verdict: 'exceeds_cap' });
  });

  it('the connection’s cap, below the export’s, decides the verdict', async () => {
    const check = await checkSelection(
      { segments: source, connections: withCap(300) },
      { segmentIds: ['a', 'b'], connectionId: 'conn-1', cap: 5_000 },
    );
    expect(check.selection).toMatchObject({ cap: 300, verdict: 'may_exceed_cap' });
  });

  it('an export cap above the default applies as a run would apply it (the default stands in only when none is given)', async () => {
    const big = { listSegments: async () => [{ id: 'big', name: 'Big', profiles: 150_000 }] };
    const connections = withCap(1_000_000);
    const given = await checkSelection(
      { segments: big, connections },
      { segmentIds: ['big'], connectionId: 'conn-1', cap: 200_000 },
    );
    expect(given.selection).toMatchObject({ cap: 200_000, verdict: 'within_cap' });
    const none = await checkSelection(
      { segments: big, connections },
      { segmentIds: ['big'], connectionId: 'conn-1' },
    );
    expect(none.selection).toMatchObject({ cap: 100_000, verdict: 'exceeds_cap' });
  });

  it('without a connection, the export’s cap alone decides', async () => {
    const check = await checkSelection(
      { segments: source, connections: { get: async () => undefined } },
      { segmentIds: ['b'], cap: 100 },
    );
    expect(check.selection).toMatchObject({ cap: 100, verdict: 'exceeds_cap' });
  });
});
