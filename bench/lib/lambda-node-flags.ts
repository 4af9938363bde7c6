/**
 * The V8 heap limits Lambda's Node.js runtime gives a function of `memoryMB`: its bootstrap (the one
 * in AWS's public Lambda base images) passes a young generation of a tenth of the memory, as two
 * semi-spaces, and the rest as old space. Node's own defaults depend on the machine's memory and
 * changed between Node 20 and 24 (on a large machine Node 24 lets the young generation grow ~3×
 * larger), so a peak-memory figure means something only under the limits the function really has.
 * Whether the nodejs24.x runtime still passes exactly these is not documented; the base image does.
 */
export const lambdaNodeFlags = (memoryMB: number): string[] => {
  if (!Number.isInteger(memoryMB) || memoryMB < 128)
    throw new RangeError(`Lambda memory must be ≥ 128 MB, got ${memoryMB}`);
  const newSpace = Math.floor(memoryMB / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMB - newSpace}`];
};
