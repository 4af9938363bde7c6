import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { slotsPerReservation } from '#lib/adapters/dynamodb/rate-budget.ts';
import { listTitle } from '#lib/domain/export-config.ts';
import type { Destination } from '#lib/ports/destination.ts';
import { applyChurn, syncDynamoDbSegments } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.runtime.close();
  pipeline = undefined;
});

const sorted = (set: Set<string>): string[] => [...set].sort();

/** Every segment's Autopilot list (read from the stand-in) equals the segment's valid emails. */
const expectListsMatchSegments = (p: LocalPipeline, dataset = p.dataset): void => {
  const standIn = p.runtime.standIn;
  if (!standIn) throw new Error('stand-in expected');
  for (const segment of dataset.segments) {
    const members = standIn
      .listMemberEmails(p.runtime.apiKey, listTitle(p.exp, segment))
      .map((e) => e.toLowerCase());
    expect(members.sort(), segment.name).toEqual(sorted(expectedMembers(dataset, segment.id)));
  }
};

const joinsOf = (p: LocalPipeline, dataset = p.dataset): number =>
  dataset.segments.reduce((n, s) => n + expectedMembers(dataset, s.id).size, 0);

describe('the pipeline on DynamoDB Local + fauxqs + the Autopilot stand-in', () => {
  it('a full run lands every valid profile in the right lists; a 1%-churn re-run sends only the changes', async () => {
    pipeline = await startLocalPipeline({ profiles: 400 });
    const first = await pipeline.run();
    expect(first.status).toBe('succeeded');
    expect(first.progress.accepted).toBe(joinsOf(pipeline));
    expect(first.progress.failed).toBe(0);
    expectListsMatchSegments(pipeline);

    const churned = applyChurn(pipeline.dataset, { fraction: 0.01, seed: 3 });
    await syncDynamoDbSegments(pipeline.runtime.segmentWriter, pipeline.dataset, churned.dataset);
    pipeline.runtime.standIn?.resetCounts();
    const second = await pipeline.run();
    expect(second.status).toBe('succeeded');
    expectListsMatchSegments(pipeline, churned.dataset);
    const sent = Object.values(second.progress.requests).reduce((a, b) => a + b, 0);
    const firstSent = Object.values(first.progress.requests).reduce((a, b) => a + b, 0);
    expect(sent).toBe(second.estimate?.totalRequests);
    expect(sent / firstSent).toBeLessThan(0.03);
    // What the stand-in saw is what the run recorded.
    const seen = Object.values(pipeline.runtime.standIn?.counts() ?? {})
      .flatMap((byStatus) => Object.values(byStatus))
      .reduce((a, b) => a + b, 0);
    expect(seen).toBe(sent);
  });

  it.each([
    ['honour', 'supported'],
    ['ignore', 'unsupported'],
  ] as const)(
    'bulk membership probe: stand-in set to %s → connection records %s, lists complete either way',
    async (mode, state) => {
      pipeline = await startLocalPipeline({ profiles: 300, standIn: { bulkListMembership: mode } });
      const run = await pipeline.run();
      expect(run.status).toBe('succeeded');
      expectListsMatchSegments(pipeline);
      expect(
        (await pipeline.runtime.state.connections.get(pipeline.connectionId))?.bulkMembership.state,
      ).toBe(state);
      const counts = pipeline.runtime.standIn?.counts() ?? {};
      expect(counts['GET /list/{id}/contact/{id}']?.[200] ?? 0).toBe(mode === 'honour' ? 1 : 0);
      if (mode === 'honour') expect(counts['POST /contact']).toBeUndefined();
    },
  );

  it('a batch delivered twice is counted once', async () => {
    pipeline = await startLocalPipeline({ profiles: 200, startSenders: false });
    const { runtime } = pipeline;
    const started = await runtime.startRun(pipeline.exp.id);
    // Wait until planning has queued every batch, then deliver the first one a second time.
    // The batch count is committed before the first batch is staged and queued: wait for the queueing.
    await runtime.waitForRunState(
      started.run.id,
      (r) => r.batchesTotal !== undefined && r.batchesQueued === r.batchesTotal,
    );
    const { Messages } = await runtime.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queues.send.queueUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 0,
      }),
    );
    const body = Messages?.[0]?.Body;
    if (body === undefined) throw new Error('no batch on the queue');
    // A copy SQS's deduplication does not catch (sent after its five-minute window), in the batch's group.
    await runtime.sqs.send(
      new SendMessageCommand({
        QueueUrl: runtime.queues.send.queueUrl,
        MessageBody: body,
        MessageGroupId: (JSON.parse(body) as { connectionId: string }).connectionId,
        MessageDeduplicationId: 'a-later-copy',
      }),
    );
    await runtime.startSenders();
    const run = await runtime.waitForRun(started.run.id);
    await runtime.idle();
    const done = await runtime.state.runs.get(run.id);
    expect(done?.status).toBe('succeeded');
    expect(done?.progress.accepted).toBe(joinsOf(pipeline));
    expect(done?.progress.batchesDone).toBe(done?.batchesTotal);
    expectListsMatchSegments(pipeline);
  });

  it('a sender that dies mid-batch is completed by redelivery with exact counts', async () => {
    let calls = 0;
    let crashed = false;
    const crashOnce = (inner: Destination): Destination => ({
      name: inner.name,
      costs: inner.costs,
      membershipModes: inner.membershipModes,
      open: (key, hooks) => {
        const session = inner.open(key, hooks);
        // Everything else is the real session (its methods live on its prototype).
        return Object.assign(Object.create(session) as typeof session, {
          upsertIntoList: async (contact: Parameters<typeof session.upsertIntoList>[0], listId: string) => {
            if (++calls === 7 && !crashed) {
              crashed = true;
              throw new Error('simulated crash: the sender process died');
            }
            return session.upsertIntoList(contact, listId);
          },
        });
      },
    });
    pipeline = await startLocalPipeline({
      profiles: 200,
      wrapDestination: crashOnce,
      visibilityTimeoutSeconds: 2,
    });
    const run = await pipeline.run();
    expect(crashed).toBe(true);
    expect(run.status).toBe('succeeded');
    expect(run.progress.accepted).toBe(joinsOf(pipeline));
    expect(run.progress.batchesDone).toBe(run.batchesTotal);
    expectListsMatchSegments(pipeline);
  });

  it('a 429 storm slows the run but loses nothing', async () => {
    // Our budget says 200/s but the stand-in allows 25/s, and it answers 15% of upserts 429 anyway
    // (seeded), so the storm does not depend on how fast this machine happens to be.
    pipeline = await startLocalPipeline({
      profiles: 200,
      ratePerSecond: 200,
      standInRate: 25,
      standIn: { faults: { errorRates: [{ status: 429, rate: 0.15, routes: ['POST /contact'] }] } },
    });
    const run = await pipeline.run();
    expect(run.status).toBe('succeeded');
    expect(run.progress.throttled).toBeGreaterThan(10);
    expect(run.progress.accepted).toBe(joinsOf(pipeline));
    expectListsMatchSegments(pipeline);
    await pipeline.runtime.idle();
  });

  it('a revoked key fails the run fast, flags the connection and drops what is left', async () => {
    pipeline = await startLocalPipeline({ profiles: 400, ratePerSecond: 40 });
    const { runtime } = pipeline;
    const started = await runtime.startRun(pipeline.exp.id);
    await runtime.waitForRunState(started.run.id, (r) => r.progress.batchesDone >= 1);
    runtime.standIn?.revokeKey(runtime.apiKey);
    const run = await runtime.waitForRun(started.run.id);
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/API key/i);
    expect((await runtime.state.connections.get(pipeline.connectionId))?.status).toBe('invalid_key');
    await runtime.idle();
    const settled = await runtime.state.runs.get(run.id);
    expect(settled?.progress.dropped).toBeGreaterThan(0);
    expect(settled?.progress.batchesDone).toBe(settled?.batchesTotal);
    const unauthorized = Object.values(runtime.standIn?.counts() ?? {}).reduce(
      (n, s) => n + (s[401] ?? 0),
      0,
    );
    // Fails fast: a handful of 401s, not one per remaining contact (~300). Each of the 2 senders can
    // have a few requests on the wire when the key goes (ceil(rate × latency) + 1: 2–4 here, more under
    // load), and it re-reads the key once before giving up.
    expect(unauthorized).toBeLessThanOrEqual(10);
  });

  it('a malformed message reaches the dead-letter queue with the reason', async () => {
    pipeline = await startLocalPipeline({ profiles: 20 });
    const { runtime } = pipeline;
    await runtime.sqs.send(
      new SendMessageCommand({
        QueueUrl: runtime.queues.send.queueUrl,
        MessageBody: '{"v":1,"type":"send-batch"}',
        MessageGroupId: 'malformed',
        MessageDeduplicationId: 'malformed-1',
      }),
    );
    await runtime.idle();
    const { Messages } = await runtime.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queues.send.dlqUrl,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages?.[0]?.Body).toBe('{"v":1,"type":"send-batch"}');
    expect(Messages?.[0]?.MessageAttributes?.reason?.StringValue).toMatch(/^op: /);
  });

  it('concurrent senders together stay within the shared rate budget (measured at the stand-in)', async () => {
    const budget = 40;
    pipeline = await startLocalPipeline({ profiles: 250, ratePerSecond: budget, senders: 3 });
    const run = await pipeline.run();
    expect(run.status).toBe('succeeded');
    const times = (pipeline.runtime.standIn?.timeline() ?? []).map((r) => r.t).sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    // Slots are spaced exactly one interval apart and never reused; a sender may use its own
    // reserved slots up to one reservation late (k slots), so a 1-second window holds at most
    // budget + k + 1 requests: 43 here. The stand-in's own limiter (the same budget) refused none.
    expect(worst).toBeLessThanOrEqual(budget + slotsPerReservation(budget) + 1);
    expect(run.progress.throttled).toBe(0);
  });

  it('field mode writes membership flags in bulk', async () => {
    pipeline = await startLocalPipeline({ profiles: 250, export: { membership: 'field' } });
    const run = await pipeline.run();
    expect(run.status).toBe('succeeded');
    const { standIn } = pipeline.runtime;
    const contacts = standIn?.contacts(pipeline.runtime.apiKey) ?? [];
    for (const segment of pipeline.dataset.segments) {
      const flagged = contacts
        .filter((c) => c.custom[`Segment ${segment.name}`]?.value === true)
        .map((c) => (c.email ?? '').toLowerCase());
      expect(flagged.sort(), segment.name).toEqual(sorted(expectedMembers(pipeline.dataset, segment.id)));
    }
    expect(Object.keys(standIn?.counts() ?? {}).sort()).toEqual(['GET /lists', 'POST /contacts']);
  });
});

describe('the local watchdog', () => {
  it('ends a run whose only batch is lost, as the stack’s schedule would, so the export can run again', async () => {
    pipeline = await startLocalPipeline({
      profiles: 50,
      startSenders: false,
      watchdog: { everyMs: 200, stallAfterMs: 1_500 },
    });
    const { runtime } = pipeline;
    const started = await runtime.startRun(pipeline.exp.id);
    // The batch count is committed before the first batch is staged and queued: wait for the queueing.
    await runtime.waitForRunState(
      started.run.id,
      (r) => r.batchesTotal !== undefined && r.batchesQueued === r.batchesTotal,
    );
    // The batches are lost (deleted unsent), as if they had gone to a DLQ nobody re-drives. Deleted,
    // not left in flight: on the FIFO queue an in-flight batch would hold the connection's group.
    for (;;) {
      const got = await runtime.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: runtime.queues.send.queueUrl, MaxNumberOfMessages: 10 }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) break;
      await runtime.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: runtime.queues.send.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    const ended = await runtime.waitForRun(started.run.id, { timeoutMs: 30_000 });
    expect(ended.status).toBe('failed');
    expect(ended.reason).toMatch(/^Stalled/);
    await runtime.startSenders();
    const again = await pipeline.run();
    expect(again.status).toBe('succeeded');
    expectListsMatchSegments(pipeline);
  });
});
