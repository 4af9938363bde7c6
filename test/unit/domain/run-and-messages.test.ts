import { describe, expect, it } from 'vitest';
import { SendBatchMessageSchema } from '#lib/domain/messages.ts';
import { canTransition, finalStatus, isTerminal } from '#lib/domain/run.ts';
import { contactData } from '#test/fixtures/builders.ts';

describe('run state machine', () => {
  it('only moves forward, and terminal states are final', () => {
    expect(canTransition('planning', 'sending')).toBe(true);
    expect(canTransition('sending', 'succeeded')).toBe(true);
    expect(canTransition('sending', 'planning')).toBe(false);
    expect(canTransition('succeeded', 'failed')).toBe(false);
    expect(canTransition('cancelled', 'sending')).toBe(false);
    expect(isTerminal('skipped')).toBe(true);
    expect(isTerminal('sending')).toBe(false);
  });

  it('ends with errors when any contact failed or was dropped', () => {
    expect(finalStatus({ accepted: 10, failed: 0, dropped: 0 })).toBe('succeeded');
    expect(finalStatus({ accepted: 10, failed: 1, dropped: 0 })).toBe('completed_with_errors');
    expect(finalStatus({ accepted: 0, failed: 0, dropped: 3 })).toBe('completed_with_errors');
  });
});

describe('send-batch message contract', () => {
  const base = { v: 1, type: 'send-batch', runId: 'r1', exportId: 'e1', connectionId: 'c1', batchNo: 0 };

  it('accepts a versioned list-join batch and defaults requeues to 0', () => {
    const parsed = SendBatchMessageSchema.parse({
      ...base,
      op: 'list-join',
      segment: 0,
      listId: 'contactlist_1',
      items: [{ data: contactData('a@example.com'), hash: 'h' }],
    });
    expect(parsed.requeues).toBe(0);
  });

  it('refuses an unknown version, an unknown op, an empty or oversized batch', () => {
    const upsert = { data: contactData('a@example.com'), hash: 'h', join: 0, leave: 0, forget: false };
    expect(SendBatchMessageSchema.safeParse({ ...base, v: 2, op: 'upsert', items: [upsert] }).success).toBe(
      false,
    );
    expect(SendBatchMessageSchema.safeParse({ ...base, op: 'delete', items: [upsert] }).success).toBe(false);
    expect(SendBatchMessageSchema.safeParse({ ...base, op: 'upsert', items: [] }).success).toBe(false);
    expect(
      SendBatchMessageSchema.safeParse({
        ...base,
        op: 'upsert',
        items: Array.from({ length: 101 }, () => upsert),
      }).success,
    ).toBe(false);
    expect(SendBatchMessageSchema.safeParse({ ...base, op: 'upsert', items: [upsert] }).success).toBe(true);
  });
});
