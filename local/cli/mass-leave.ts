import type { SampleDataset } from '../sample-data.ts';

/**
 * The dataset with up to `count` members of one segment leaving it (the first ones in dataset order):
 * a mass leave such as an upstream segment that came back half empty by mistake. Profiles stay,
 * in whatever other segments they are in.
 */
export const withMassLeave = (
  dataset: SampleDataset,
  segmentId: string,
  count: number,
): { dataset: SampleDataset; left: number } => {
  const index = dataset.segments.findIndex((s) => s.id === segmentId);
  if (index < 0) throw new Error(`No sample segment "${segmentId}"`);
  const bit = 1 << index;
  const membership = dataset.membership.slice();
  let left = 0;
  for (let i = 0; i < membership.length && left < count; i++) {
    const mask = membership[i] as number;
    if ((mask & bit) === 0) continue;
    membership[i] = mask & ~bit;
    left++;
  }
  return { dataset: { ...dataset, membership }, left };
};
