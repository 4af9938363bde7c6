import { describe, expect, it } from 'vitest';
import { recentSlices } from '#lib/adapters/segments/s3-objects.ts';

const counting = (byteLength: number) => {
  const reads: string[] = [];
  return {
    reads,
    file: {
      byteLength,
      slice: async (start: number, end?: number) => {
        reads.push(`${start}-${end ?? byteLength}`);
        return new ArrayBuffer((end ?? byteLength) - start);
      },
    },
  };
};

describe('recentSlices', () => {
  it('serves a repeated slice from memory', async () => {
    const { reads, file } = counting(1000);
    const cached = recentSlices(file, 100);
    await cached.slice(0, 50);
    await cached.slice(0, 50);
    expect(reads).toEqual(['0-50']);
  });

  it('drops the least recently used slices once they exceed the byte bound', async () => {
    const { reads, file } = counting(1000);
    const cached = recentSlices(file, 100);
    await cached.slice(0, 40);
    await cached.slice(40, 80);
    await cached.slice(0, 40); // now the most recent
    await cached.slice(80, 140); // 140 bytes held would exceed 100: 40-80 goes
    await cached.slice(0, 40);
    await cached.slice(40, 80);
    expect(reads).toEqual(['0-40', '40-80', '80-140', '40-80']);
  });

  it('never holds a slice larger than the bound', async () => {
    const { reads, file } = counting(1000);
    const cached = recentSlices(file, 100);
    await cached.slice(0, 500);
    await cached.slice(0, 500);
    expect(reads).toEqual(['0-500', '0-500']);
  });
});
