import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../cdk/constructs/bundling.ts';

/** ES-module bundles still contain CommonJS dependencies that call `require`; give them one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);";

/** Scratch space inside the repository (gitignored), so bundles resolve externals from its node_modules. */
export const BENCH_TMP = join(REPO_ROOT, 'bench', '.tmp');

/**
 * Bundles a benchmark worker into one ESM file for plain `node`: everything it imports (zod, the
 * project's own modules, subpath imports) is inside, so no loader such as tsx adds its own memory.
 */
export const bundleWorker = async (entry: string, outfile: string): Promise<string> => {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: true,
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning',
  });
  return outfile;
};
