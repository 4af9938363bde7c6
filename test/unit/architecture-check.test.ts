import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Allowance, checkArchitecture } from '#scripts/check-architecture.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IMPORTS = {
  '#lib/*': './lib/*',
  '#local/*': './local/*',
  '#functions/*': './functions/*',
  '#test/*': './test/*',
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway repository: package.json with the project's subpath imports, plus the given files. */
const tree = (files: Record<string, string>): string => {
  const root = mkdtempSync(join(tmpdir(), 'architecture-'));
  dirs.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', imports: IMPORTS }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
};

/** Every layer importing what it may, through subpaths and relative paths alike. */
const CLEAN = {
  'lib/domain/contact.ts':
    "import * as z from 'zod';\nimport { hash } from './hash.ts';\nexport const C = z.string();\n",
  'lib/domain/hash.ts': 'export const hash = (s: string) => s.length;\n',
  'lib/ports/store.ts': "import type { C } from '#lib/domain/contact.ts';\nexport interface Store { c: C }\n",
  'lib/use-cases/run.ts':
    "import type { Store } from '../ports/store.ts';\nimport { C } from '#lib/domain/contact.ts';\nimport * as z from 'zod';\n",
  'lib/adapters/dynamo/store.ts':
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport type { Store } from '#lib/ports/store.ts';\nimport { request } from 'undici';\nimport { readFile } from 'node:fs/promises';\n",
  'functions/sender/index.ts':
    "import { run } from '#lib/use-cases/run.ts';\nimport { store } from '#lib/adapters/dynamo/store.ts';\nimport { env } from '#functions/shared/env.ts';\n",
  'functions/shared/env.ts': "import * as z from 'zod';\n",
  'local/runtime.ts':
    "import { handler } from '#functions/sender/index.ts';\nimport { startFauxqs } from 'fauxqs';\n",
  'cdk/app.ts': "import { App } from 'aws-cdk-lib';\nimport { SERVICE } from './config.ts';\n",
  'cdk/config.ts': "export const SERVICE = 'x';\n",
  'test/fakes/clock.ts':
    "import { runtime } from '#local/runtime.ts';\nimport { handler } from '#functions/sender/index.ts';\n",
};

const check = (files: Record<string, string>, allowances: readonly Allowance[] = []) =>
  checkArchitecture(tree({ ...CLEAN, ...files }), allowances);

const broken = (files: Record<string, string>) =>
  check(files).violations.map(({ file, line, specifier, target, rule }) => ({
    file,
    line,
    specifier,
    target,
    rule,
  }));

describe('architecture check', () => {
  it('passes a tree whose every layer imports only what it may', () => {
    const report = check({});
    expect(report.violations).toEqual([]);
    expect(report.cycles).toEqual([]);
    expect(report.files).toBe(10);
  });

  it('catches the domain importing an adapter through a subpath import', () => {
    expect(
      broken({
        'lib/domain/contact.ts':
          "import * as z from 'zod';\nimport { x } from '#lib/adapters/dynamo/store.ts';\n",
      }),
    ).toEqual([
      {
        file: 'lib/domain/contact.ts',
        line: 2,
        specifier: '#lib/adapters/dynamo/store.ts',
        target: 'lib/adapters/dynamo/store.ts',
        rule: 'domain-pure',
      },
    ]);
  });

  it('refuses Node built-ins in the domain, with or without the node: prefix', () => {
    const found = broken({
      'lib/domain/hash.ts': "import { createHash } from 'node:crypto';\nimport { join } from 'path';\n",
    });
    expect(found.map((v) => [v.target, v.rule])).toEqual([
      ['node:crypto', 'domain-pure'],
      ['node:path', 'domain-pure'],
    ]);
  });

  it('catches a use case importing the AWS SDK or undici, deep paths included', () => {
    const found = broken({
      'lib/use-cases/run.ts':
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport type { Agent } from 'undici/lib/agent.js';\n",
    });
    expect(found.map((v) => [v.target, v.rule])).toEqual([
      ['pkg:@aws-sdk/client-dynamodb', 'use-cases-no-infrastructure'],
      ['pkg:undici', 'use-cases-no-infrastructure'],
    ]);
  });

  it('catches a use case speaking HTTP itself through Node, with or without the node: prefix', () => {
    const found = broken({
      'lib/use-cases/run.ts': "import { request } from 'node:https';\nimport type { Agent } from 'http';\n",
    });
    expect(found.map((v) => [v.target, v.rule])).toEqual([
      ['node:https', 'use-cases-no-infrastructure'],
      ['node:http', 'use-cases-no-infrastructure'],
    ]);
  });

  it('catches a function importing the local runtime, even through a dynamic import', () => {
    const found = broken({
      'functions/shared/env.ts': "export const load = () => import('#local/runtime.ts');\n",
    });
    expect(found.map((v) => v.rule).sort()).toEqual(['functions-deployable', 'runtime-no-dev-code']);
    expect(found[0]?.target).toBe('local/runtime.ts');
  });

  it('catches one function importing another, and lets both use functions/shared', () => {
    const found = broken({
      'functions/api/route.ts':
        "import { env } from '#functions/shared/env.ts';\nimport { handler } from '../sender/index.ts';\n",
    });
    expect(found.map((v) => [v.file, v.target, v.rule])).toEqual([
      ['functions/api/route.ts', 'functions/sender/index.ts', 'function-api-own'],
    ]);
  });

  it('resolves a relative path that climbs out of its layer, and one that leaves the repository', () => {
    const found = broken({
      'lib/use-cases/run.ts': "export { store } from '../adapters/dynamo/store.ts';\n",
      'lib/ports/store.ts': "import type { Thing } from '../../../elsewhere/thing.ts';\n",
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        file: 'lib/use-cases/run.ts',
        target: 'lib/adapters/dynamo/store.ts',
        rule: 'use-cases-no-infrastructure',
      }),
    );
    expect(found).toContainEqual(
      expect.objectContaining({ file: 'lib/ports/store.ts', rule: 'inside-repo' }),
    );
    expect(found.find((v) => v.rule === 'inside-repo')?.target).toMatch(
      /^outside:\.\.\/elsewhere\/thing\.ts$/,
    );
  });

  it('counts type-only imports, including import() types', () => {
    const report = check({ 'lib/ports/store.ts': "export type S = import('#lib/use-cases/run.ts').Run;\n" });
    expect(report.violations).toEqual([
      expect.objectContaining({
        file: 'lib/ports/store.ts',
        target: 'lib/use-cases/run.ts',
        rule: 'ports-on-domain',
        typeOnly: true,
      }),
    ]);
  });

  it('lets console/ import only console/, preact and openapi-fetch: no lib/, functions/, local/, zod or Node built-in', () => {
    const found = broken({
      'console/app.tsx':
        "import { render } from 'preact';\nimport { useState } from 'preact/hooks';\nimport createClient from 'openapi-fetch';\nimport type { paths } from './api/schema.d.ts';\nimport { Page } from './pages/page.tsx';\n",
      'console/api/schema.d.ts': 'export interface paths {}\n',
      'console/pages/page.tsx':
        "import { ConnectionSchema } from '#lib/domain/contact.ts';\nimport { env } from '../../functions/shared/env.ts';\nimport { runtime } from '#local/runtime.ts';\nimport * as z from 'zod';\nimport { readFile } from 'node:fs';\nexport const Page = () => null;\n",
    });
    expect(found.map((v) => `${v.file}:${v.line} ${v.target} ${v.rule}`)).toEqual([
      'console/pages/page.tsx:1 lib/domain/contact.ts console-browser-only',
      'console/pages/page.tsx:2 functions/shared/env.ts console-browser-only',
      'console/pages/page.tsx:3 local/runtime.ts console-browser-only',
      'console/pages/page.tsx:4 pkg:zod console-browser-only',
      'console/pages/page.tsx:5 node:fs console-browser-only',
    ]);
  });

  it('catches adapters importing use cases, cdk importing runtime code, lib importing test code, functions importing an emulator', () => {
    const found = broken({
      'lib/adapters/dynamo/store.ts': "import { run } from '#lib/use-cases/run.ts';\n",
      'cdk/app.ts': "import { SERVICE } from '../functions/shared/env.ts';\n",
      'lib/use-cases/run.ts': "import { FakeClock } from '#test/fakes/clock.ts';\n",
      'functions/shared/env.ts': "import { startFauxqs } from 'fauxqs';\n",
    });
    expect(found.map((v) => `${v.file} ${v.rule}`).sort()).toEqual([
      'cdk/app.ts cdk-no-runtime',
      'functions/shared/env.ts runtime-no-dev-code',
      'lib/adapters/dynamo/store.ts adapters-no-callers',
      'lib/use-cases/run.ts runtime-no-dev-code',
      'lib/use-cases/run.ts use-cases-no-infrastructure',
    ]);
  });

  it('reports a `#` import that package.json does not map', () => {
    expect(broken({ 'functions/shared/env.ts': "import { x } from '#nowhere/x.ts';\n" })).toEqual([
      {
        file: 'functions/shared/env.ts',
        line: 1,
        specifier: '#nowhere/x.ts',
        target: 'unknown:#nowhere/x.ts',
        rule: 'known-subpath',
      },
    ]);
  });

  it('finds an import cycle, type-only edges included, and names a loop to cut', () => {
    const report = check({
      'lib/use-cases/a.ts': "import { b } from './b.ts';\n",
      'lib/use-cases/b.ts': "import { c } from '#lib/use-cases/sub/c.ts';\n",
      'lib/use-cases/sub/c.ts': "import type { A } from '../a.ts';\n",
    });
    expect(report.violations).toEqual([]);
    expect(report.cycles).toEqual([
      {
        files: ['lib/use-cases/a.ts', 'lib/use-cases/b.ts', 'lib/use-cases/sub/c.ts'],
        path: ['lib/use-cases/a.ts', 'lib/use-cases/b.ts', 'lib/use-cases/sub/c.ts', 'lib/use-cases/a.ts'],
      },
    ]);
  });

  it('finds a file that imports itself and a cycle across folders', () => {
    const report = check({
      'lib/domain/hash.ts': "import { hash } from './hash.ts';\n",
      'local/runtime.ts': "import { x } from '../cdk/app.ts';\n",
      'cdk/app.ts': "import { y } from '../local/runtime.ts';\n",
    });
    expect(report.cycles.map((c) => c.files)).toEqual([
      ['cdk/app.ts', 'local/runtime.ts'],
      ['lib/domain/hash.ts'],
    ]);
  });

  it('tolerates allow-listed findings, reports stale entries, and lets an allowed cycle shrink but not grow', () => {
    const files = {
      'lib/domain/hash.ts': "import { createHash } from 'node:crypto';\n",
      'lib/use-cases/a.ts': "import { b } from './b.ts';\n",
      'lib/use-cases/b.ts': "import { a } from './a.ts';\n",
    };
    const allowances: Allowance[] = [
      { rule: 'domain-pure', file: 'lib/domain/hash.ts', target: 'node:crypto', reason: 'r1' },
      {
        rule: 'no-cycle',
        files: ['lib/use-cases/a.ts', 'lib/use-cases/b.ts', 'lib/use-cases/c.ts'],
        reason: 'r2',
      },
      { rule: 'domain-pure', file: 'lib/domain/contact.ts', target: 'node:fs', reason: 'fixed already' },
    ];
    const shrunk = check(files, allowances);
    expect(shrunk.violations).toEqual([]);
    expect(shrunk.cycles).toEqual([]);
    expect(shrunk.allowed.map((a) => a.allowance.reason)).toEqual(['r1', 'r2']);
    expect(shrunk.stale.map((a) => a.reason)).toEqual(['fixed already']);

    const grown = check(
      {
        ...files,
        'lib/use-cases/b.ts': "import { d } from './d.ts';\n",
        'lib/use-cases/d.ts': "import { a } from './a.ts';\n",
      },
      allowances,
    );
    expect(grown.cycles.map((c) => c.files)).toEqual([
      ['lib/use-cases/a.ts', 'lib/use-cases/b.ts', 'lib/use-cases/d.ts'],
    ]);
  });

  it('exits 1 naming file, import and rule on a broken tree, and 0 on a clean one', () => {
    const run = (root: string) =>
      spawnSync(
        join(REPO, 'node_modules', '.bin', 'tsx'),
        [join(REPO, 'scripts', 'check-architecture.ts'), '--root', root],
        {
          encoding: 'utf8',
        },
      );
    const bad = run(
      tree({ ...CLEAN, 'functions/shared/env.ts': "import { startFauxqs } from '#local/runtime.ts';\n" }),
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(
      "functions/shared/env.ts:1  imports '#local/runtime.ts' → local/runtime.ts  [functions-deployable]",
    );
    const good = run(tree(CLEAN));
    expect(good.stdout).toContain('0 violation(s), 0 cycle(s) in 10 files');
    expect(good.status).toBe(0);
  });
});
