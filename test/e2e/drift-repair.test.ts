import { afterEach, describe, expect, it } from 'vitest';
import { listTitle } from '#lib/domain/export-config.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { expectedMembers } from '#local/verify.ts';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.runtime.close();
  pipeline = undefined;
});

const SEGMENT = 'newsletter';

describe('drift repair on DynamoDB Local + fauxqs + the Autopilot stand-in', () => {
  it('a list emptied by hand in Autopilot is refilled by one repair run, with the drift counted exactly', async () => {
    pipeline = await startLocalPipeline({ profiles: 400, export: { segmentIds: [SEGMENT] } });
    const p = pipeline;
    const standIn = p.runtime.standIn;
    if (!standIn) throw new Error('stand-in expected');
    const segment = p.dataset.segments.find((s) => s.id === SEGMENT);
    if (!segment) throw new Error('no newsletter segment');
    const title = listTitle(p.exp, segment);
    const expected = [...expectedMembers(p.dataset, SEGMENT)].sort();
    // Autopilot keeps an address as first written; membership is by address, whatever its case.
    const onList = () =>
      standIn
        .listMemberEmails(p.runtime.apiKey, title)
        .map((e) => e.toLowerCase())
        .sort();
    expect((await p.run()).status).toBe('succeeded');
    expect(onList()).toEqual(expected);

    // Someone clears the list in Autopilot: a normal run would not notice, its snapshot says all are on it.
    expect(standIn.emptyList(p.runtime.apiKey, title)).toBe(expected.length);
    const normal = await p.run();
    expect(normal.status).toBe('succeeded');
    expect(normal.drift).toBeUndefined();
    expect(onList()).toEqual([]);

    const reply = await invokeLocalApi(p.runtime, {
      method: 'POST',
      url: `/exports/${p.exp.id}/runs`,
      headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ repair: true }),
    });
    expect(reply.status).toBe(202);
    const runId = JSON.parse(reply.body).runId as string;
    const repaired = await p.runtime.waitForRun(runId, { timeoutMs: 120_000 });

    expect(repaired.status).toBe('succeeded');
    expect(repaired.drift).toEqual({
      lists: 1,
      read: 0,
      missing: expected.length,
      strangerOurs: 0,
      strangerForeign: 0,
      foreignRemoved: 0,
    });
    expect(onList()).toEqual(expected);
  });
});
