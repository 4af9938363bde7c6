/**
 * Bundles every Lambda exactly as the stack does (the options come from cdk/constructs/bundling.ts,
 * which the house NodejsFunction uses too) and prints each bundle's minified size and what is
 * biggest in it. Writes nothing outside a temporary directory.
 *
 *   npm run bundle-report            # table
 *   npm run bundle-report -- --json  # machine-readable
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import {
  esbuildBuildOptions,
  FUNCTION_ENTRIES,
  FUNCTION_HANDLERS,
  type FunctionName,
  REPO_ROOT,
} from '../cdk/constructs/bundling.ts';

interface BundleSize {
  name: FunctionName;
  entry: string;
  /** The exports Lambda functions run (`index.<handler>`): one bundle may serve several functions. */
  handlers: readonly string[];
  bytes: number;
  mapBytes: number;
  /** Largest npm packages (or `(project)`) by bytes of output. */
  top: { pkg: string; bytes: number }[];
}

const packageOf = (input: string): string => {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  const last = match?.at(-1);
  return last ? last.replace('node_modules/', '') : '(project)';
};

const topPackages = (metafile: Metafile, outfile: string): { pkg: string; bytes: number }[] => {
  const output = Object.entries(metafile.outputs).find(([path]) => join(REPO_ROOT, path) === outfile)?.[1];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = packageOf(input);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([pkg, bytes]) => ({ pkg, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5);
};

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

const main = async (): Promise<void> => {
  const json = process.argv.includes('--json');
  const dir = mkdtempSync(join(tmpdir(), 'bundle-report-'));
  try {
    const sizes: BundleSize[] = [];
    for (const [name, entry] of Object.entries(FUNCTION_ENTRIES) as [FunctionName, string][]) {
      const outfile = join(dir, name, 'index.cjs');
      const result = await build({ ...esbuildBuildOptions(join(REPO_ROOT, entry), outfile), metafile: true });
      sizes.push({
        name,
        entry,
        handlers: FUNCTION_HANDLERS[name],
        bytes: statSync(outfile).size,
        mapBytes: statSync(`${outfile}.map`).size,
        top: topPackages(result.metafile, outfile),
      });
    }
    if (json) {
      console.log(JSON.stringify(sizes, null, 2));
      return;
    }
    console.log(
      'Lambda bundles (CommonJS, minified, AWS SDK v3 from the Lambda runtime; same esbuild options as the stack)\n',
    );
    for (const s of sizes) {
      console.log(
        `${s.name.padEnd(8)} ${kb(s.bytes).padStart(10)}  (source map ${kb(s.mapBytes)})  ${s.entry} → ${s.handlers.join(', ')}`,
      );
      console.log(`         largest: ${s.top.map((t) => `${t.pkg} ${kb(t.bytes)}`).join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

await main();
