import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = mkdtempSync(join(tmpdir(), 'console-types-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the console's typed API client", () => {
  it('is generated from the committed docs/openapi.json (run `npm run console:types` after `npm run openapi`)', () => {
    const fresh = join(out, 'schema.d.ts');
    const run = spawnSync(
      join(REPO, 'node_modules', '.bin', 'openapi-typescript'),
      [join(REPO, 'docs', 'openapi.json'), '-o', fresh],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const committed = readFileSync(join(REPO, 'console', 'api', 'schema.d.ts'), 'utf8');
    // A whole-file comparison: any drift means the console compiles against an API that is not there.
    expect(committed === readFileSync(fresh, 'utf8')).toBe(true);
  });
});
