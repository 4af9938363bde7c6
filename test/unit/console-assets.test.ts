import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleAsset } from '#local/console-assets.ts';

const dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>c</title>');
writeFileSync(join(dir, 'app.js'), 'console.log(1)');
writeFileSync(join(dir, 'secret.txt'), 'not for the web');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the local server serving the console', () => {
  it('answers / with index.html under a CSP that allows only same-origin files and no framing', async () => {
    const res = await consoleAsset(dir, 'GET', '/');
    expect(res?.status).toBe(200);
    expect(res?.body).toContain('<title>c</title>');
    expect(res?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res?.headers['content-security-policy']).toMatch(/^default-src 'self';.*frame-ancestors 'none'/);
    expect(res?.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves only the built files: anything else under /console/ is 404, and traversal reaches nothing', async () => {
    expect((await consoleAsset(dir, 'GET', '/console/app.js'))?.headers['content-type']).toMatch(
      /^text\/javascript/,
    );
    expect((await consoleAsset(dir, 'GET', '/console/secret.txt'))?.status).toBe(404);
    for (const path of ['/console/%2e%2e/secret.txt', '/console/../secret.txt', '/secret.txt']) {
      expect((await consoleAsset(dir, 'GET', path))?.body ?? '', path).not.toContain('not for the web');
    }
  });

  it('leaves API paths and writes to the API', async () => {
    expect(await consoleAsset(dir, 'GET', '/connections')).toBeUndefined();
    expect(await consoleAsset(dir, 'POST', '/')).toBeUndefined();
  });

  it('says how to build the console when it is not built', async () => {
    const res = await consoleAsset(join(dir, 'missing'), 'GET', '/');
    expect(res?.status).toBe(503);
    expect(res?.body).toContain('npm run console:build');
  });
});
