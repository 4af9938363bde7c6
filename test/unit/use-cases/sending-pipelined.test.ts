import { describe, expect, it } from 'vitest';
import { FatalRunError, TransientError } from '#lib/domain/errors.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import { RequestsHalted } from '#lib/use-cases/destination-calls.ts';
import { sendPipelined } from '#lib/use-cases/sending/pipelined.ts';
import { StopDelivery } from '#lib/use-cases/sending/watch.ts';

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Pending {
  index: number;
  answer: (result: ContactResult) => void;
  fail: (error: unknown) => void;
}

/** A fake session call per item whose answer the test gives, in any order; counts what is in flight. */
const controlledSends = () => {
  const pending = new Map<number, Pending>();
  const launched: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (_email: string, index: number): Promise<ContactResult> => {
    launched.push(index);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<ContactResult>((resolve, reject) => {
      pending.set(index, {
        index,
        answer: (result) => {
          inFlight--;
          resolve(result);
        },
        fail: (error) => {
          inFlight--;
          reject(error);
        },
      });
    });
  };
  const answer = async (index: number): Promise<void> => {
    const p = pending.get(index);
    if (p === undefined) throw new Error(`item ${index} was not launched`);
    pending.delete(index);
    p.answer({ email: `p${index}@example.com`, ok: true });
    await settle();
  };
  const fail = async (index: number, error: unknown): Promise<void> => {
    const p = pending.get(index);
    if (p === undefined) throw new Error(`item ${index} was not launched`);
    pending.delete(index);
    p.fail(error);
    await settle();
  };
  return {
    send,
    answer,
    fail,
    launched,
    pendingIndexes: () => [...pending.keys()].sort((a, b) => a - b),
    maxInFlight: () => maxInFlight,
  };
};

const emails = (n: number) => Array.from({ length: n }, (_, i) => `p${i}@example.com`);
const indexesOf = (results: readonly ContactResult[]) =>
  results.map((r) => Number(r.email.slice(1, r.email.indexOf('@'))));

describe('sendPipelined', () => {
  it('keeps item order in `into` when answers arrive out of order', async () => {
    const s = controlledSends();
    const into: ContactResult[] = [];
    const done = sendPipelined(emails(5), s.send, into, () => 3);
    await settle();

    await s.answer(2);
    await s.answer(1);
    expect(into).toEqual([]); // item 0 still open: nothing counts yet
    await s.answer(0);
    expect(indexesOf(into)).toEqual([0, 1, 2]);
    await s.answer(4);
    expect(indexesOf(into)).toEqual([0, 1, 2]);
    await s.answer(3);
    await done;

    expect(indexesOf(into)).toEqual([0, 1, 2, 3, 4]);
  });

  it('never has more than the limit in flight, and refills as answers come', async () => {
    const s = controlledSends();
    const into: ContactResult[] = [];
    const done = sendPipelined(emails(10), s.send, into, () => 3);
    await settle();
    expect(s.pendingIndexes()).toEqual([0, 1, 2]);

    for (const i of [1, 0, 3, 2, 5, 4, 6, 8, 7, 9]) await s.answer(i);
    await done;

    expect(s.maxInFlight()).toBe(3);
    expect(s.launched).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(indexesOf(into)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reads the limit before each launch, so the window follows the latency seen', async () => {
    const s = controlledSends();
    let limit = 1;
    const done = sendPipelined(emails(6), s.send, [], () => limit);
    await settle();
    expect(s.pendingIndexes()).toEqual([0]);

    limit = 4;
    await s.answer(0);

    expect(s.pendingIndexes()).toEqual([1, 2, 3, 4]);
    for (const i of [1, 2, 3, 4, 5]) await s.answer(i);
    await done;
  });

  it('a failure in the middle stops launching and keeps exactly the prefix before it', async () => {
    const s = controlledSends();
    const into: ContactResult[] = [];
    const error = new TransientError('503 from the destination');
    const done = sendPipelined(emails(8), s.send, into, () => 3);
    const outcome = done.then(
      () => undefined,
      (e: unknown) => e,
    );
    await settle();
    await s.answer(0); // launches 3
    await s.answer(3); // after the gap to come: answered, yet discarded
    expect(s.pendingIndexes()).toEqual([1, 2, 4]);

    await s.fail(2, error);
    expect(s.pendingIndexes()).toEqual([1, 4]); // nothing new launched after the failure
    await s.answer(4);
    await s.answer(1); // before the failed item: still extends the prefix

    expect(await outcome).toBe(error);
    expect(indexesOf(into)).toEqual([0, 1]);
    expect(s.launched).toEqual([0, 1, 2, 3, 4]);
  });

  it('waits for every request in flight before it throws', async () => {
    const s = controlledSends();
    let finished = false;
    const done = sendPipelined(emails(4), s.send, [], () => 2).finally(() => {
      finished = true;
    });
    done.catch(() => {});
    await settle();
    await s.fail(0, new TransientError('reset'));

    expect(finished).toBe(false);
    await s.answer(1);
    await expect(done).rejects.toBeInstanceOf(TransientError);
  });

  it('a cancel outranks a transient failure, and a refused key outranks both but a cancel', async () => {
    const s = controlledSends();
    const done = sendPipelined(emails(3), s.send, [], () => 3);
    done.catch(() => {});
    await settle();
    await s.fail(0, new TransientError('503'));
    await s.fail(2, new FatalRunError('key refused', 'invalid_api_key'));
    await s.fail(1, new StopDelivery('cancelled'));
    await expect(done).rejects.toBeInstanceOf(StopDelivery);

    const t = controlledSends();
    const second = sendPipelined(emails(2), t.send, [], () => 2);
    second.catch(() => {});
    await settle();
    await t.fail(0, new TransientError('503'));
    await t.fail(1, new FatalRunError('key refused', 'invalid_api_key'));
    await expect(second).rejects.toBeInstanceOf(FatalRunError);
  });

  it('halts the session at the first failure, once, so requests waiting for a slot are not sent', async () => {
    const s = controlledSends();
    let halts = 0;
    const done = sendPipelined(
      emails(4),
      s.send,
      [],
      () => 3,
      () => halts++,
    );
    done.catch(() => {});
    await settle();
    await s.answer(0);
    expect(halts).toBe(0);

    await s.fail(1, new FatalRunError('key refused', 'invalid_api_key'));
    await s.fail(2, new RequestsHalted());
    await s.fail(3, new RequestsHalted());

    expect(halts).toBe(1);
    await expect(done).rejects.toBeInstanceOf(FatalRunError);
  });

  it('with a limit of 1 sends one after another, as before pipelining', async () => {
    const s = controlledSends();
    const done = sendPipelined(emails(3), s.send, [], () => 1);
    await settle();
    for (const i of [0, 1, 2]) {
      expect(s.pendingIndexes()).toEqual([i]);
      await s.answer(i);
    }
    await done;
    expect(s.maxInFlight()).toBe(1);
  });
});
