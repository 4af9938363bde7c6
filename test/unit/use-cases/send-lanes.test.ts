import { describe, expect, it } from 'vitest';
import { SEND_BATCH_FIFO } from '#functions/shared/wiring.ts';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import { orttoCosts } from '#lib/adapters/ortto/cost-model.ts';
import { MAX_SEND_LANES } from '#lib/domain/messages.ts';
import type { PlannedBatch } from '#lib/domain/plan.ts';
import { messageOf } from '#lib/use-cases/planning/emit.ts';
import { sendLanes } from '#lib/use-cases/planning/lanes.ts';

const upsert: PlannedBatch = {
  op: 'upsert',
  items: [
    { data: { email: 'a@example.com', fields: {}, custom: {} }, hash: 'h', join: 0, leave: 0, forget: false },
  ],
};
const join: PlannedBatch = {
  op: 'list-join',
  segment: 0,
  items: [{ data: { email: 'a@example.com', fields: {}, custom: {} }, hash: 'h' }],
};
const address = (lanes: ReturnType<typeof sendLanes>) => ({
  runId: 'run-1',
  exportId: 'exp-1',
  connectionId: 'conn-1',
  listIds: ['list-1'],
  lanes,
});

describe('send lanes: enough senders to keep a connection budget busy, and no more', () => {
  it('one-request batches get as many lanes as requests the budget keeps in flight', () => {
    // rate × 0.4 s (the assumed answer time) + 1
    expect(sendLanes(orttoCosts, 'unknown', 10).upsert).toBe(5);
    expect(sendLanes(autopilotCosts, 'unknown', 5).upsert).toBe(3);
    expect(sendLanes(autopilotCosts, 'unknown', 1000).upsert).toBe(MAX_SEND_LANES);
  });

  it('batches of one request per contact stay in one lane: they pipeline within their delivery', () => {
    expect(sendLanes(autopilotCosts, 'unsupported', 5)['list-join']).toBe(1);
    expect(sendLanes(autopilotCosts, 'unknown', 5)['list-join']).toBe(1);
    expect(sendLanes(autopilotCosts, 'supported', 5)['list-join']).toBe(3);
    expect(sendLanes(autopilotCosts, 'supported', 5)['list-leave']).toBe(1);
  });

  it('one-request batches go round the lanes, each lane its own FIFO group; lane 0 is the connection', () => {
    const lanes = sendLanes(orttoCosts, 'supported', 10);
    const groups = [0, 1, 2, 3, 4, 5, 6].map((n) =>
      SEND_BATCH_FIFO.groupId(messageOf(upsert, address(lanes), n)),
    );
    expect(groups).toEqual(['conn-1', 'conn-1#1', 'conn-1#2', 'conn-1#3', 'conn-1#4', 'conn-1', 'conn-1#1']);
    const perContact = sendLanes(autopilotCosts, 'unsupported', 10);
    expect([0, 1, 2].map((n) => SEND_BATCH_FIFO.groupId(messageOf(join, address(perContact), n)))).toEqual([
      'conn-1',
      'conn-1',
      'conn-1',
    ]);
  });
});
