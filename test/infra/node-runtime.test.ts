import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, REPO_ROOT, RUNTIME } from '../../cdk/constructs/bundling.ts';

describe('the Node.js the functions run on', () => {
  it('is the major the repository develops and tests on (.nvmrc)', () => {
    const major = readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim();
    expect(RUNTIME.name).toBe(`nodejs${major}.x`);
    expect(BUNDLE.target).toBe(`node${major}`);
  });
});
