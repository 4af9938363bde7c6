import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkNode, majorOf, readNodeFacts } from '#scripts/check-node.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const facts = { running: 'v24.21.0', nvmrc: '24', pinned: '24.21.0', engines: '>=24' };

describe('majorOf', () => {
  it('reads the major of the spellings .nvmrc, package.json and process.version use', () => {
    expect(['24', 'v24', '24.21.0', 'v24.21.0', '>=24', '>= 24.1'].map(majorOf)).toEqual([
      24, 24, 24, 24, 24, 24,
    ]);
  });

  it('answers undefined for ranges it cannot reduce to one major, and for oversized input', () => {
    expect(['lts/*', '^24 || ^26', '', '24.x', `${'9'.repeat(70)}`].map(majorOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(majorOf(undefined)).toBeUndefined();
  });
});

describe('checkNode', () => {
  it('passes when the running Node, the pin and engines all have the .nvmrc major', () => {
    const result = checkNode(facts);
    expect(result.ok).toBe(true);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toContain('node v24.21.0');
  });

  it('fails on an older running Node and says how to get the pinned one', () => {
    const result = checkNode({ ...facts, running: 'v20.20.2' });
    expect(result.ok).toBe(false);
    expect(result.lines[1]).toMatch(/node v20\.20\.2 is running, but the functions run on Node\.js 24/);
    expect(result.lines[1]).toContain('npm ci');
  });

  it('fails when the pin or engines disagree with .nvmrc, naming the field', () => {
    expect(checkNode({ ...facts, pinned: '22.1.0' }).lines.join('\n')).toContain('devDependencies.node');
    expect(checkNode({ ...facts, pinned: undefined }).ok).toBe(false);
    expect(checkNode({ ...facts, engines: '>=20.11' }).lines.join('\n')).toContain('engines.node');
  });

  it('refuses an .nvmrc that names no major', () => {
    const result = checkNode({ ...facts, nvmrc: 'lts/*' });
    expect(result.ok).toBe(false);
    expect(result.lines[0]).toContain('.nvmrc');
  });
});

describe('this repository', () => {
  it('runs its tests on the Node.js major of .nvmrc, the one Lambda runs', () => {
    const { nvmrc } = readNodeFacts(REPO);
    expect(process.versions.node.split('.')[0]).toBe(nvmrc);
  });

  it('passes the check npm test starts with, and the script exits 1 on a mismatch', () => {
    const ok = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/check-node.ts')], {
      encoding: 'utf8',
    });
    expect(ok.stdout).toContain(`node ${process.version}`);
    expect(ok.status).toBe(0);

    const other = mkdtempSync(join(tmpdir(), 'check-node-'));
    try {
      const major = Number(process.versions.node.split('.')[0]) + 2;
      writeFileSync(join(other, '.nvmrc'), `${major}\n`);
      writeFileSync(
        join(other, 'package.json'),
        JSON.stringify({ engines: { node: `>=${major}` }, devDependencies: { node: `${major}.0.0` } }),
      );
      const mismatch = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'scripts/check-node.ts'), '--root', other],
        { encoding: 'utf8' },
      );
      expect(mismatch.stdout).toContain(`but the functions run on Node.js ${major}`);
      expect(mismatch.status).toBe(1);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
