import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listTitle } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { createConnection } from '#lib/use-cases/manage-connections.ts';
import { createExport } from '#lib/use-cases/manage-exports.ts';
import { manifestKeyOf } from '#local/refresh-drop.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import {
  applyChurn,
  generateSampleProfiles,
  type SampleDataset,
  sampleSegmentMembers,
} from '#local/sample-data.ts';
import { sampleRefreshSegments } from '#local/sample-refresh.ts';
import { expectedMembers } from '#local/verify.ts';

/**
 * Issue 12, item 5: locally, as in the cloud, a refresh dropped into S3 starts the scheduled
 * exports using its segments when its manifest arrives; the run is never started by hand.
 */

let runtime: LocalRuntime;
let exp: ExportRecord;
const dataset = generateSampleProfiles({ profiles: 240, seed: 12 });

beforeAll(async () => {
  runtime = await startLocalRuntime({
    segments: 's3',
    senders: 2,
    senderTimeoutMs: 20_000,
    arrivalsEveryMs: 100,
    services: { dynamoEndpoint: inject('dynamoEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
    autopilot: { kind: 'standin', ratePerSecond: 400, standIn: { seed: 3 } },
  });
});
afterAll(async () => {
  await runtime?.close();
});

/** Every segment's list in the stand-in holds exactly the segment's valid, distinct emails. */
const expectListsEqualSegments = (data: SampleDataset): void => {
  for (const segment of data.segments) {
    const members = runtime.standIn
      ?.listMemberEmails(runtime.apiKey, listTitle(exp, segment))
      .map((e) => e.toLowerCase())
      .sort();
    expect(members, segment.name).toEqual([...expectedMembers(data, segment.id)].sort());
  }
};

describe("the local runtime in s3 mode (the cloud's front door)", () => {
  it('a first refresh makes its segments known and starts nothing: no export uses them yet', async () => {
    const dropped = await runtime.dropRefresh(sampleRefreshSegments(dataset));
    const arrival = await runtime.waitForRefresh(dropped.refreshId);
    expect(arrival.delivery.error).toBeUndefined();
    expect(arrival.runs).toEqual([]);
    // Listed from the refresh ledger, ordered by id; each count is the segment's members.
    const listed = await runtime.segments.listSegments();
    expect(listed.map((s) => [s.id, s.name, s.profiles])).toEqual(
      [...dataset.segments]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((s) => [s.id, s.name, Array.from(sampleSegmentMembers(dataset, s.id)).length]),
    );
  });

  it("the next refresh's arrival starts the scheduled export, whose lists then equal the segments", async () => {
    const connection = await createConnection(
      runtime.connectionDeps,
      {
        displayName: 'Local S3 test',
        apiKey: runtime.apiKey,
        consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
        ratePerSecond: 400,
      },
      { id: 'tester', role: 'admin' },
    );
    exp = await createExport(
      runtime.exportDeps,
      {
        name: 'Refresh-driven export',
        connectionId: connection.id,
        segmentIds: dataset.segments.map((s) => s.id),
        dataMatching: { email: 'email', fields: { FirstName: 'first_name' }, updatedAt: 'updated_at' },
      },
      { id: 'tester', role: 'admin' },
    );
    expect(exp.scheduled).toBe(true);

    const dropped = await runtime.dropRefresh(sampleRefreshSegments(dataset));
    const arrival = await runtime.waitForRefresh(dropped.refreshId);
    expect(arrival.runs.map((r) => [r.exportId, r.trigger, r.refreshId])).toEqual([
      [exp.id, 'schedule', dropped.refreshId],
    ]);
    const run = await runtime.waitForRun(arrival.runs[0]?.id ?? '', { timeoutMs: 40_000 });
    expect(run.status).toBe('succeeded');
    expectListsEqualSegments(dataset);

    // A churned refresh: the run it starts brings every list to the new segments.
    const churned = applyChurn(dataset, { fraction: 0.05, seed: 4 }).dataset;
    const next = await runtime.dropRefresh(sampleRefreshSegments(churned));
    const second = await runtime.waitForRefresh(next.refreshId);
    expect(second.runs.map((r) => r.refreshId)).toEqual([next.refreshId]);
    expect((await runtime.waitForRun(second.runs[0]?.id ?? '', { timeoutMs: 40_000 })).status).toBe(
      'succeeded',
    );
    expectListsEqualSegments(churned);
  });

  it('a manifest uploaded again is delivered again and starts nothing new', async () => {
    const dropped = await runtime.dropRefresh(sampleRefreshSegments(dataset));
    const first = await runtime.waitForRefresh(dropped.refreshId);
    expect(first.runs).toHaveLength(1);
    await runtime.waitForRun(first.runs[0]?.id ?? '', { timeoutMs: 40_000 });

    // The same manifest written again (compact this time, so the upload is told apart by its ETag).
    await runtime.s3?.send(
      new PutObjectCommand({
        Bucket: runtime.segmentBucket,
        Key: manifestKeyOf(dropped.refreshId),
        Body: JSON.stringify(dropped.manifest),
      }),
    );
    const again = await runtime.waitForRefresh(dropped.refreshId, { count: 2 });
    expect(again.delivery.attempts).toBe(1);
    expect(again.delivery.result).toMatchObject({ recorded: 'seen', started: [], followUp: 'none' });
    expect(again.runs.map((r) => r.id)).toEqual(first.runs.map((r) => r.id));
  });
});
