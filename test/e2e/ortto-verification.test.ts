import { afterEach, describe, expect, it } from 'vitest';
import { OrttoClient } from '#lib/adapters/ortto/client.ts';
import { orttoRequests } from '#lib/adapters/ortto/cost-model.ts';
import { membershipTagName } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { expectedMembers } from '#local/verify.ts';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.runtime.close();
  pipeline = undefined;
});

const MERGE = 'POST /v1/person/merge';
const TAGS_GET = 'POST /v1/tags/get';
const PERSON_GET = 'POST /v1/person/get';
const STRANGER = 'stranger@example.com';

const orttoOf = (p: LocalPipeline) => {
  const ortto = p.runtime.ortto;
  if (ortto === undefined) throw new Error('the Ortto stand-in was not started');
  return ortto;
};

const seen = (p: LocalPipeline, route: string): number =>
  Object.values(orttoOf(p).standIn.counts()[route] ?? {}).reduce((a, b) => a + b, 0);

const tagged = (p: LocalPipeline, tag: string): string[] => {
  const { standIn, apiKey } = orttoOf(p);
  return standIn
    .tagMemberEmails(apiKey, tag)
    .map((e) => e.toLowerCase())
    .sort();
};

/** Every segment's tag is on exactly the segment's valid, distinct emails. */
const expectExactTags = (p: LocalPipeline): void => {
  for (const segment of p.dataset.segments)
    expect(tagged(p, membershipTagName(p.exp, segment)), segment.name).toEqual(
      [...expectedMembers(p.dataset, segment.id)].sort(),
    );
};

/**
 * What someone working in Ortto's web app does: untags three members of the first segment and tags
 * a stranger with it, through Ortto's own API (merges with `unset_tags` and `tags`).
 */
const driftByHand = async (
  p: LocalPipeline,
): Promise<{ segmentId: string; tag: string; untagged: string[] }> => {
  const { standIn, apiKey } = orttoOf(p);
  const segment = p.dataset.segments[0];
  if (segment === undefined) throw new Error('no segment');
  const tag = membershipTagName(p.exp, segment);
  const untagged = [...expectedMembers(p.dataset, segment.id)].sort().slice(0, 3);
  const client = new OrttoClient({ apiKey, baseUrl: standIn.url });
  const options = { mergeBy: ['str::email'] };
  await client.mergePeople(
    untagged.map((email) => ({ fields: { 'str::email': email }, unsetTags: [tag] })),
    options,
  );
  await client.mergePeople([{ fields: { 'str::email': STRANGER }, tags: [tag] }], options);
  expect(tagged(p, tag)).toContain(STRANGER);
  expect(tagged(p, tag)).not.toContain(untagged[0]);
  return { segmentId: segment.id, tag, untagged };
};

const checkOf = (run: RunRecord, segmentId: string) =>
  run.drift?.tags?.find((t) => t.segmentId === segmentId);

describe('tag mode on the Ortto stand-in: every run counts its tags and repairs those that disagree', () => {
  it('untagged members and a stranger are noticed by the next run, which re-tags the members and untags the stranger', async () => {
    pipeline = await startLocalPipeline({
      destination: 'ortto',
      profiles: 600,
      export: { repair: { removeForeign: true } },
    });
    const p = pipeline;
    const segments = p.dataset.segments.length;
    expect((await p.run()).status).toBe('succeeded');
    expectExactTags(p);
    const drift = await driftByHand(p);
    const { standIn } = orttoOf(p);
    standIn.resetCounts();

    const noticed = await p.run();

    expect(noticed.status, noticed.reason).toBe('succeeded');
    expectExactTags(p);
    expect(tagged(p, drift.tag)).not.toContain(STRANGER);
    expect(noticed.drift).toMatchObject({ lists: 1, missing: 3, strangerForeign: 1, foreignRemoved: 1 });
    const members = expectedMembers(p.dataset, drift.segmentId).size;
    expect(checkOf(noticed, drift.segmentId)).toEqual({
      segmentId: drift.segmentId,
      tag: drift.tag,
      counted: members - 3 + 1,
      expected: members,
      uncertain: 0,
      foreign: 0,
      readBack: true,
    });
    // Only the disagreeing tag was read back; the others' counts agreed.
    expect(noticed.drift?.tags?.filter((t) => t.readBack)).toHaveLength(1);
    expect(noticed.drift?.tags?.map((t) => t.counted !== null)).toEqual(Array(segments).fill(true));
    // One count per tag, then the read-back: its tag look-up, and (the stand-in refusing the tag
    // filter by default, as Ortto may) one refused filtered page, then a scan of every person. Then
    // one merge of the three members and one of the stranger (a pure leaver: only untagged).
    expect(seen(p, TAGS_GET)).toBe(orttoRequests.verify(segments) + 1);
    const everyone = standIn.people(orttoOf(p).apiKey).length;
    expect(standIn.counts()[PERSON_GET]).toEqual({ 400: 1, 200: Math.ceil(everyone / 500) });
    expect(seen(p, MERGE)).toBe(2);
    expect(noticed.progress.requests).toMatchObject({
      tagsGet: seen(p, TAGS_GET),
      personGet: seen(p, PERSON_GET),
    });

    // Nothing drifted since: the next run makes only its counts.
    standIn.resetCounts();
    const quiet = await p.run();
    expect(quiet.status).toBe('succeeded');
    expect(standIn.counts()).toEqual({ [TAGS_GET]: { 200: orttoRequests.verify(segments) } });
    expect(quiet.estimate?.totalRequests).toBe(orttoRequests.verify(segments));
    expect(quiet.drift?.tags?.every((t) => !t.readBack && t.counted === t.expected)).toBe(true);
    expectExactTags(p);
  });

  it('without removeForeign the stranger keeps the tag, and is remembered so later runs only count', async () => {
    // An Ortto that honours the tag filter: the read-back pages through the tag's people alone.
    pipeline = await startLocalPipeline({
      destination: 'ortto',
      profiles: 300,
      ortto: { standIn: { tagFilter: true } },
    });
    const p = pipeline;
    const segments = p.dataset.segments.length;
    expect((await p.run()).status).toBe('succeeded');
    const drift = await driftByHand(p);
    orttoOf(p).standIn.resetCounts();

    const noticed = await p.run();

    const members = expectedMembers(p.dataset, drift.segmentId).size;
    expect(orttoOf(p).standIn.counts()[PERSON_GET]).toEqual({ 200: orttoRequests.readBack(members) - 1 });

    expect(noticed.status, noticed.reason).toBe('succeeded');
    expect(noticed.drift).toMatchObject({ lists: 1, missing: 3, strangerForeign: 1, foreignRemoved: 0 });
    expect(checkOf(noticed, drift.segmentId)).toMatchObject({ foreign: 1, readBack: true });
    const wanted = [...expectedMembers(p.dataset, drift.segmentId), STRANGER].sort();
    expect(tagged(p, drift.tag)).toEqual(wanted);

    const { standIn } = orttoOf(p);
    standIn.resetCounts();
    const quiet = await p.run();
    expect(quiet.status).toBe('succeeded');
    expect(standIn.counts()).toEqual({ [TAGS_GET]: { 200: orttoRequests.verify(segments) } });
    expect(checkOf(quiet, drift.segmentId)).toMatchObject({ foreign: 1, readBack: false });
  });

  it('an on-demand repair run reads every tag back, with no counts', async () => {
    pipeline = await startLocalPipeline({ destination: 'ortto', profiles: 300 });
    const p = pipeline;
    expect((await p.run()).status).toBe('succeeded');
    await driftByHand(p);
    const reply = await invokeLocalApi(p.runtime, {
      method: 'POST',
      url: `/exports/${p.exp.id}/runs`,
      headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ repair: true }),
    });
    expect(reply.status, reply.body).toBe(202);
    const runId = JSON.parse(reply.body).runId as string;
    const repaired = await p.runtime.waitForRun(runId, { timeoutMs: 120_000 });

    expect(repaired.status, repaired.reason).toBe('succeeded');
    expect(repaired.repair).toBe(true);
    expect(repaired.drift).toMatchObject({
      lists: p.dataset.segments.length,
      missing: 3,
      strangerForeign: 1,
    });
    expect(repaired.drift?.tags?.every((t) => t.readBack && t.counted === null)).toBe(true);
    const members = (segmentId: string) => [...expectedMembers(p.dataset, segmentId)].sort();
    for (const segment of p.dataset.segments.slice(1))
      expect(tagged(p, membershipTagName(p.exp, segment))).toEqual(members(segment.id));
  });
});
