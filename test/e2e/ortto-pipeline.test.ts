import { afterEach, describe, expect, it } from 'vitest';
import { orttoRequests } from '#lib/adapters/ortto/cost-model.ts';
import { membershipTagName } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { applyChurn, type SampleDataset, syncDynamoDbSegments } from '#local/sample-data.ts';
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
/** The kind the run's estimate prices a tag count under. */
const TAGS_GET_KIND = 'tagsGet';

const orttoOf = (p: LocalPipeline) => {
  const ortto = p.runtime.ortto;
  if (ortto === undefined) throw new Error('the Ortto stand-in was not started');
  return ortto;
};

/** Every segment's tag (read from the stand-in) is on exactly the segment's valid, distinct emails. */
const expectTagsMatchSegments = (p: LocalPipeline, dataset: SampleDataset = p.dataset): void => {
  const { standIn, apiKey } = orttoOf(p);
  for (const segment of dataset.segments) {
    const tagged = standIn
      .tagMemberEmails(apiKey, membershipTagName(p.exp, segment))
      .map((e) => e.toLowerCase());
    expect(tagged.sort(), segment.name).toEqual([...expectedMembers(dataset, segment.id)].sort());
  }
};

const requestsOf = (run: RunRecord): number =>
  Object.values(run.progress.requests).reduce((a, b) => a + b, 0);

const routeSeen = (p: LocalPipeline, route: string): number =>
  Object.values(orttoOf(p).standIn.counts()[route] ?? {}).reduce((a, b) => a + b, 0);
const mergesSeen = (p: LocalPipeline): number => routeSeen(p, MERGE);

describe('the pipeline into Ortto (DynamoDB Local + fauxqs + the Ortto stand-in), one tag per segment', () => {
  it('a first export and a 1%-churn re-run leave every segment tag on exactly its members, at the floor', async () => {
    pipeline = await startLocalPipeline({ destination: 'ortto', profiles: 6_000 });
    const first = await pipeline.run();
    expect(first.status, first.reason).toBe('succeeded');
    expect(first.progress.failed).toBe(0);
    expectTagsMatchSegments(pipeline);
    // One merge per 100 changed people, joins of every segment included: the destination's floor,
    // rounded up to whole requests (over 50 of them, so within 2% of it).
    const floor = first.estimate?.floorRequests ?? 0;
    expect(floor).toBeGreaterThan(50);
    expect(mergesSeen(pipeline)).toBe(Math.ceil(floor));
    expect(mergesSeen(pipeline) / floor).toBeLessThanOrEqual(1.02);
    expect(requestsOf(first)).toBe(first.estimate?.totalRequests);

    const churned = applyChurn(pipeline.dataset, { fraction: 0.01, seed: 5 });
    expect(churned.summary.leftAll.length + churned.summary.leftSegment.length).toBeGreaterThan(0);
    await syncDynamoDbSegments(pipeline.runtime.segmentWriter, pipeline.dataset, churned.dataset);
    orttoOf(pipeline).standIn.resetCounts();
    const second = await pipeline.run();
    expect(second.status, second.reason).toBe('succeeded');
    expectTagsMatchSegments(pipeline, churned.dataset);
    // Changes only: the re-run's merges are what it planned, a few for ~1% of the people, beyond
    // one tags/get per segment tag (its counts agreed, so nothing was read back).
    const counts = routeSeen(pipeline, TAGS_GET);
    expect(counts).toBe(orttoRequests.verify(pipeline.dataset.segments.length));
    expect(second.estimate?.requests[TAGS_GET_KIND]).toBe(counts);
    expect(routeSeen(pipeline, PERSON_GET)).toBe(0);
    expect(mergesSeen(pipeline) + counts).toBe(second.estimate?.totalRequests);
    expect(mergesSeen(pipeline)).toBeLessThanOrEqual(Math.ceil(second.estimate?.floorRequests ?? 0) + 1);
  });

  it('an Ortto that leaves skipped and refused people out of its answers still ends with exact tags', async () => {
    pipeline = await startLocalPipeline({
      destination: 'ortto',
      profiles: 600,
      ortto: { standIn: { skippedAnswer: 'omit', mixedBatch: 'omit' } },
    });
    const { standIn, apiKey } = orttoOf(pipeline);
    const first = await pipeline.run();
    expect(first.status, first.reason).toBe('succeeded');
    expectTagsMatchSegments(pipeline);
    const churned = applyChurn(pipeline.dataset, { fraction: 0.03, seed: 13 });
    const gone = churned.summary.leftAll.length;
    expect(gone).toBeGreaterThan(1);
    await syncDynamoDbSegments(pipeline.runtime.segmentWriter, pipeline.dataset, churned.dataset);
    // One leaver was never in Ortto (deleted there by hand): its untagging is skipped, and answered with nothing.
    const deleted = pipeline.dataset.profiles.find((p) => p.id === churned.summary.leftAll[0]?.profileId);
    expect(standIn.deletePerson(apiKey, deleted?.email ?? '')).toBe(true);
    const second = await pipeline.run();
    expect(second.status, second.reason).toBe('succeeded');
    expect(second.progress.failed).toBe(0);
    expectTagsMatchSegments(pipeline, churned.dataset);
    // Nobody was created to be untagged.
    expect(standIn.personByEmail(apiKey, deleted?.email ?? '')).toBeUndefined();
  });

  it('never re-subscribes a person who unsubscribed, and never sends an email or SMS permission', async () => {
    pipeline = await startLocalPipeline({ destination: 'ortto', profiles: 300 });
    expect((await pipeline.run()).status).toBe('succeeded');
    const { standIn, apiKey } = orttoOf(pipeline);
    const churned = applyChurn(pipeline.dataset, { fraction: 0.05, seed: 9 });
    // People whose profile changes: the re-run merges each of them again.
    const emails = churned.summary.edited
      .map((id) => pipeline?.dataset.profiles.find((p) => p.id === id)?.email.toLowerCase())
      .filter((e): e is string => e !== undefined && standIn.personByEmail(apiKey, e) !== undefined)
      .slice(0, 3);
    expect(emails.length).toBe(3);
    for (const email of emails) standIn.unsubscribe(apiKey, email);
    await syncDynamoDbSegments(pipeline.runtime.segmentWriter, pipeline.dataset, churned.dataset);
    const second = await pipeline.run();
    expect(second.status, second.reason).toBe('succeeded');
    for (const email of emails) expect(standIn.personByEmail(apiKey, email)?.fields['bol::p']).toBe(false);
    expect(standIn.permissionWrites(apiKey)).toEqual([]);
    expectTagsMatchSegments(pipeline, churned.dataset);
  });

  it('a storm of 429s with try-in-seconds loses nothing', async () => {
    pipeline = await startLocalPipeline({ destination: 'ortto', profiles: 600 });
    const { standIn } = orttoOf(pipeline);
    standIn.setFaults({
      rules: [{ kind: 'error', status: 429, tryInSeconds: 1, routes: [MERGE], every: 2 }],
    });
    const run = await pipeline.run();
    expect(run.status, run.reason).toBe('succeeded');
    expect(run.progress.throttled).toBeGreaterThan(0);
    expect(run.progress.failed).toBe(0);
    standIn.setFaults(undefined);
    expectTagsMatchSegments(pipeline);
  });

  it('a batch Ortto refuses whole (every person writes a field deleted in Ortto) fails only its people', async () => {
    pipeline = await startLocalPipeline({
      destination: 'ortto',
      profiles: 300,
      export: {
        dataMatching: {
          email: 'email',
          fields: { FirstName: 'first_name' },
          custom: [{ name: 'Plan', type: 'string', source: 'plan' }],
          updatedAt: 'updated_at',
        },
      },
    });
    expect((await pipeline.run()).status).toBe('succeeded');
    const { standIn, apiKey } = orttoOf(pipeline);
    const plan = standIn.customFields(apiKey).find((f) => f.name === 'Plan');
    if (plan === undefined) throw new Error('the export did not create its Plan field');
    // Someone deletes the field in Ortto's web app: every merge still writing it is refused.
    expect(standIn.deleteCustomField(apiKey, plan.id)).toBe(true);
    const churned = applyChurn(pipeline.dataset, { fraction: 0.02, seed: 21 });
    expect(churned.summary.leftAll.length).toBeGreaterThan(0);
    await syncDynamoDbSegments(pipeline.runtime.segmentWriter, pipeline.dataset, churned.dataset);
    standIn.resetCounts();
    const second = await pipeline.run();
    // The merge of everyone who stays is refused whole (a 400 naming the field); the leavers' own
    // merge is applied; nobody is retried one by one (Ortto said why, and bans an IP for 400s).
    expect(second.status).toBe('completed_with_errors');
    expect(standIn.counts()[MERGE]).toEqual({ 200: 1, 400: 1 });
    const refused = second.progress.failed;
    expect(refused).toBeGreaterThanOrEqual((second.planning?.added ?? 0) + (second.planning?.changed ?? 0));
    expect(second.progress.accepted).toBe(second.planning?.left);
    expect(Object.keys(second.progress.failedByReason)).toEqual([
      'invalid: failed to validate field str:cm:plan: Object not found',
    ]);
    for (const gone of churned.summary.leftAll) {
      const email = pipeline.dataset.profiles.find((p) => p.id === gone.profileId)?.email.toLowerCase() ?? '';
      expect(standIn.personByEmail(apiKey, email)?.tags ?? []).toEqual([]);
    }
    // The next run sends the refused people again: the field is read afresh, created again, and
    // every tag ends on exactly its members.
    standIn.resetCounts();
    const third = await pipeline.run();
    expect(third.status, third.reason).toBe('succeeded');
    expect(third.progress.accepted).toBe(refused);
    expect(standIn.counts()['POST /v1/person/custom-field/create']).toEqual({ 200: 1 });
    expectTagsMatchSegments(pipeline, churned.dataset);
  });

  it('a revoked key fails the run fast and marks the connection', async () => {
    pipeline = await startLocalPipeline({ destination: 'ortto', profiles: 600 });
    const { standIn, apiKey } = orttoOf(pipeline);
    standIn.revokeKey(apiKey);
    const run = await pipeline.run();
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/key/i);
    // Stopped on the refusals (the tag counts before planning are the first requests), not after
    // trying every batch, and well before Ortto's IP ban.
    const refused = Object.values(standIn.counts()).reduce((n, byStatus) => n + (byStatus[401] ?? 0), 0);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(5);
    expect(standIn.bans()).toBe(0);
    expect((await pipeline.runtime.state.connections.get(pipeline.connectionId))?.status).toBe('invalid_key');
  });
});
