/**
 * The V8 heap limits Lambda's Node.js runtime gives a function of `memoryMB`: its bootstrap (the one
 * in AWS's public Lambda base images) passes a young generation of a tenth of the memory, as two
 * semi-spaces, and the rest as old space. Node's own defaults depend on the machine's memory and
 * changed between Node 20 and 24 (on a large machine Node 24 lets the young generation grow ~3×
 * larger), so a peak-memory figure means something only under the limits the function really has.
 * AWS does not document these; the base images' bootstrap, nodejs24.x's included, passes them.
 */
export const lambdaNodeFlags = (memoryMB: number): string[] => {
  if (!Number.isInteger(memoryMB) || memoryMB < 128)
    throw new RangeError(`Lambda memory must be ≥ 128 MB, got ${memoryMB}`);
  const newSpace = Math.floor(memoryMB / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMB - newSpace}`];
};

// The bootstrap matches both spellings anywhere in NODE_OPTIONS (V8 accepts `_` and `-`).
const HEAP_FLAG = /^--max[-_](semi|old)[-_]space[-_]size=/;

/**
 * The heap flags a function of `memoryMB` runs with, given the V8 flags of its NODE_OPTIONS: the
 * bootstrap adds its own only when NODE_OPTIONS names neither limit (with one named, V8's default
 * stands for the other), so a function that sets one must set both.
 */
export const effectiveHeapFlags = (memoryMB: number, nodeOptions: readonly string[]): string[] => {
  const own = nodeOptions.filter((flag) => HEAP_FLAG.test(flag));
  return own.length > 0 ? own : lambdaNodeFlags(memoryMB);
};
