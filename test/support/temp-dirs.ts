import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Fresh directories under the OS temp dir for one test file, each removed after its test; call at
 * the file's top level (it registers the `afterEach`).
 */
export const tempDirs = (prefix: string): (() => string) => {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
};

/** File descriptors this process has open (Linux): a test that opens none more than it closes leaves it as it was. */
export const openFds = (): number => readdirSync('/proc/self/fd').length;
