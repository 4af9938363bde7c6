import { describe, expect, it } from 'vitest';
import { reservationsFor } from '../../bench/lib/cost.ts';

describe('the cost model’s rate-budget writes per batch', () => {
  it('counts the blocks a sender reserves when each acquire says how many requests follow it', () => {
    expect(reservationsFor(100, 5)).toBe(5); // 20 slots (4 s) a block
    expect(reservationsFor(25, 5)).toBe(2); // 20, then 5
    expect(reservationsFor(4, 5)).toBe(1);
    expect(reservationsFor(1, 5)).toBe(1); // a bulk request still reserves the usual 4-slot block
    expect(reservationsFor(100, 120)).toBe(5); // at most 20 slots a block at any rate
  });
});
