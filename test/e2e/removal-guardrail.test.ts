import { afterEach, describe, expect, it } from 'vitest';
import { listTitle } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { withMassLeave } from '#local/cli/mass-leave.ts';
import { syncDynamoDbSegments } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.runtime.close();
  pipeline = undefined;
});

const SEGMENT = 'newsletter';

const post = async (p: LocalPipeline, url: string, token = 'dev-admin') =>
  invokeLocalApi(p.runtime, { method: 'POST', url, headers: { authorization: `Bearer ${token}` } });

describe('removal guardrail on DynamoDB Local + fauxqs + the Autopilot stand-in', () => {
  it('a list of ~1,000 whose segment comes back empty is held untouched, and emptied once an admin approves', async () => {
    // 1,450 sample profiles put ~1,000 in the newsletter segment (seed 11).
    pipeline = await startLocalPipeline({ profiles: 1450, export: { segmentIds: [SEGMENT] } });
    const p = pipeline;
    const standIn = p.runtime.standIn;
    if (!standIn) throw new Error('stand-in expected');
    const segment = p.dataset.segments.find((s) => s.id === SEGMENT);
    if (!segment) throw new Error('no newsletter segment');
    const title = listTitle(p.exp, segment);
    const members = expectedMembers(p.dataset, SEGMENT).size;
    expect(members).toBeGreaterThan(950);
    expect((await p.run()).status).toBe('succeeded');
    expect(standIn.listMemberEmails(p.runtime.apiKey, title)).toHaveLength(members);

    const emptied = withMassLeave(p.dataset, SEGMENT, Number.POSITIVE_INFINITY).dataset;
    await syncDynamoDbSegments(p.runtime.segmentWriter, p.dataset, emptied);
    const started = await p.runtime.startRun(p.exp.id);
    const held = await p.runtime.waitForRunState(
      started.run.id,
      (r: RunRecord) => r.status === 'awaiting_approval',
      60_000,
    );
    expect(held.hold?.targets).toEqual([
      { segmentId: SEGMENT, target: title, members, removals: members, exceeds: true },
    ]);
    await p.runtime.idle();
    expect(standIn.listMemberEmails(p.runtime.apiKey, title)).toHaveLength(members);
    expect(standIn.counts()['DELETE /list/{id}/contact/{id}']).toBeUndefined();

    // A contributor may not decide; an admin approves through the API, once.
    expect((await post(p, `/runs/${held.id}/approve`, 'dev-contributor')).status).toBe(403);
    expect((await post(p, `/runs/${held.id}/approve`)).status).toBe(202);
    expect((await post(p, `/runs/${held.id}/approve`)).status).toBe(409);
    const done = await p.runtime.waitForRun(held.id, { timeoutMs: 120_000 });
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ accepted: members, failed: 0, dropped: 0 });
    expect(standIn.listMemberEmails(p.runtime.apiKey, title)).toEqual([]);
    // Each held removal was sent once, after the approval.
    expect(standIn.counts()['DELETE /list/{id}/contact/{id}']).toEqual({ 200: members });
  });
});
