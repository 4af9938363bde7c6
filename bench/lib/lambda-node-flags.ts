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

const HEAP_OPTION = /^(\d+):((?:old|semi)=\d+(?:,(?:old|semi)=\d+)?)$/;

/**
 * A bench's `--heap` option, `<memory MB>:old=<MB>,semi=<MB>` (either or both): the heap limits a
 * function of that memory gets from its own NODE_OPTIONS, as flags. Pass them to
 * `effectiveHeapFlags` to run with what Lambda would: a size given neither keeps the bootstrap's.
 */
export const parseHeapOption = (spec: string): { memoryMB: number; nodeOptions: string[] } => {
  const match = HEAP_OPTION.exec(spec.trim());
  if (match === null) throw new Error(`--heap: expected <memory MB>:old=<MB>,semi=<MB>, got "${spec}"`);
  const memoryMB = Number(match[1]);
  const limits = new Map<string, number>();
  for (const part of String(match[2]).split(',')) {
    const [name = '', mb = ''] = part.split('=');
    if (limits.has(name)) throw new Error(`--heap: ${name} is given twice in "${spec}"`);
    const value = Number(mb);
    if (value < 1 || value >= memoryMB) throw new Error(`--heap: ${name}=${mb} does not fit ${memoryMB} MB`);
    limits.set(name, value);
  }
  const nodeOptions = [];
  const semi = limits.get('semi');
  const old = limits.get('old');
  if (semi !== undefined) nodeOptions.push(`--max-semi-space-size=${semi}`);
  if (old !== undefined) nodeOptions.push(`--max-old-space-size=${old}`);
  return { memoryMB, nodeOptions };
};
