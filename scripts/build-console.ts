/**
 * Builds the web console (console/) into static files: index.html, app.js and app.css, minified,
 * and reports their sizes. `npm run serve` builds it before serving; the browser tests build it too.
 *
 *   npm run console:build                       # → .local-data/console/
 *   npm run console:build -- --outdir dist/console
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, buildSync } from 'esbuild';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_CONSOLE_DIR = join(REPO, '.local-data', 'console');

/** The most the first page load may transfer, compressed: the console must open fast on a slow link. */
export const INITIAL_LOAD_BUDGET_GZIP = 150 * 1024;

export interface ConsoleBuild {
  outdir: string;
  files: { name: string; bytes: number; gzipBytes: number }[];
  /** index.html + app.js + app.css, gzip-compressed: what a first visit downloads. */
  initialGzipBytes: number;
}

/** How the console is bundled, locally and for the cloud alike. */
const BUILD_OPTIONS = {
  absWorkingDir: REPO,
  entryPoints: { app: 'console/main.tsx' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'console/tsconfig.json',
  legalComments: 'none',
  logLevel: 'warning',
} as const satisfies BuildOptions;

export const buildConsole = async (outdir: string = DEFAULT_CONSOLE_DIR): Promise<ConsoleBuild> => {
  mkdirSync(outdir, { recursive: true });
  await build({ ...BUILD_OPTIONS, outdir });
  copyFileSync(join(REPO, 'console', 'index.html'), join(outdir, 'index.html'));
  const files = ['index.html', 'app.js', 'app.css'].map((name) => {
    const content = readFileSync(join(outdir, name));
    return { name, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
  return { outdir, files, initialGzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) };
};

/**
 * The console laid out as the site serves it (index.html at the root, the bundle under console/),
 * built synchronously because CDK's local asset bundling is synchronous (cdk/constructs/console-deployment.ts).
 */
export const buildConsoleSiteSync = (siteDir: string): void => {
  mkdirSync(join(siteDir, 'console'), { recursive: true });
  buildSync({ ...BUILD_OPTIONS, outdir: join(siteDir, 'console') });
  copyFileSync(join(REPO, 'console', 'index.html'), join(siteDir, 'index.html'));
};

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

export const formatConsoleBuild = (result: ConsoleBuild): string[] => [
  ...result.files.map((f) => `  ${f.name.padEnd(11)} ${kb(f.bytes).padStart(9)}  (gzip ${kb(f.gzipBytes)})`),
  `  initial load ${kb(result.initialGzipBytes)} gzip (budget ${kb(INITIAL_LOAD_BUDGET_GZIP)})`,
];

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at >= 0 ? resolve(process.argv[at + 1] ?? DEFAULT_CONSOLE_DIR) : DEFAULT_CONSOLE_DIR;
  const result = await buildConsole(outdir);
  console.log(`console built in ${result.outdir}`);
  for (const line of formatConsoleBuild(result)) console.log(line);
  if (result.initialGzipBytes > INITIAL_LOAD_BUDGET_GZIP) {
    console.error(`The console's initial load is over its ${kb(INITIAL_LOAD_BUDGET_GZIP)} budget.`);
    process.exitCode = 1;
  }
}
