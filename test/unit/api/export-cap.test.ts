import { describe, expect, it } from 'vitest';
import { ApiHarness, editable } from '#test/support/api-harness.ts';

const profiles = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: String(from + i),
    attributes: { email: `${from + i}@example.com` },
  }));

/** A connection capped at 100; `small` (30), `large` (80) and `huge` (130 profiles) to pick from. */
const world = async (): Promise<ApiHarness> => {
  const h = new ApiHarness();
  h.segments.set('small', 'Small', profiles(30));
  h.segments.set('large', 'Large', profiles(80, 100));
  h.segments.set('huge', 'Huge', profiles(130, 200));
  await h.addConnection({ cap: 100, sharing: 'admins+contributors' });
  return h;
};

const body = (overrides: Record<string, unknown>) => ({
  name: 'Capped',
  connectionId: 'conn-1',
  segmentIds: ['small'],
  dataMatching: { email: 'email' },
  ...overrides,
});

describe('GET /segments checks a selection against the export’s own cap', () => {
  it('applies query.cap when it is below the connection’s', async () => {
    const h = await world();
    const reply = await h.call('GET', '/segments?segmentIds=large&connectionId=conn-1&cap=50', {
      token: 'dev-viewer',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.selection).toMatchObject({ cap: 50, verdict: 'exceeds_cap' });
  });

  it.each([
    ['zero', '0'],
    ['negative', '-5'],
    ['fractional', '2.5'],
    ['not a number', 'lots'],
    ['beyond what an export may have', '10000001'],
    ['absurdly long', '9'.repeat(5_000)],
  ])('refuses a cap that is %s, naming query.cap', async (_what, cap) => {
    const h = await world();
    const reply = await h.call('GET', `/segments?segmentIds=large&cap=${cap}`);
    expect(reply.status).toBe(400);
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual(['query.cap']);
  });
});

describe('a save is refused when its selection is known to exceed the cap and the run would fail', () => {
  it('POST names segmentIds, the segment over the cap and by how much; nothing is saved', async () => {
    const h = await world();
    const reply = await h.call('POST', '/exports', {
      token: 'dev-contributor',
      body: body({ segmentIds: ['small', 'huge'] }),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      {
        path: 'segmentIds',
        reason: expect.stringMatching(/"Huge" \(huge\) has 130 profiles, 30 over the cap of 100/),
      },
    ]);
    expect(await h.state.exports.list()).toEqual([]);
  });

  it('the export’s own cap counts: PUT over it is refused and the export stays as it was', async () => {
    const h = await world();
    const created = await h.call('POST', '/exports', { body: body({ segmentIds: ['small'] }) });
    expect(created.status).toBe(201);
    const edit = { ...editable(created.body), segmentIds: ['large'], cap: 60, version: 1 };
    const reply = await h.call('PUT', `/exports/${created.body.id}`, { body: edit });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({
      path: 'segmentIds',
      reason: expect.stringContaining('"Large" (large) has 80 profiles, 20 over the cap of 60'),
    });
    expect((await h.state.exports.get(created.body.id))?.segmentIds).toEqual(['small']);
  });

  it('saves a selection that only may exceed the cap (shared or invalid profiles could fit it)', async () => {
    const h = await world();
    const reply = await h.call('POST', '/exports', { body: body({ segmentIds: ['small', 'large'] }) });
    expect(reply.status).toBe(201);
  });

  it('saves a selection over the cap when the export sends up to the cap instead of failing', async () => {
    const h = await world();
    const reply = await h.call('POST', '/exports', {
      body: body({ segmentIds: ['huge'], capPolicy: 'truncate' }),
    });
    expect(reply.status).toBe(201);
  });
});
