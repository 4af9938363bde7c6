import { describe, expect, it } from 'vitest';
import { MANIFEST_MAX_BYTES, parseRefreshManifest } from '#lib/domain/refresh-manifest.ts';

const file = (overrides: Record<string, unknown> = {}) => ({ key: 'a.csv', format: 'csv', ...overrides });
const manifest = (segments: unknown[], overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ refreshId: 'r1', createdAt: '2026-12-03T10:00:00Z', segments, ...overrides });
const segment = (overrides: Record<string, unknown> = {}) => ({
  id: 's',
  name: 'S',
  files: [file()],
  ...overrides,
});

const problems = (text: string): string[] => {
  const parsed = parseRefreshManifest(text, 'r1');
  if (parsed.ok) throw new Error('expected the manifest to be refused');
  return parsed.problems;
};

describe('parseRefreshManifest', () => {
  it('accepts every format, gzip, declared rows and checksums, and attributes', () => {
    const text = manifest([
      segment({
        files: [
          file({ rows: 3, sha256: 'a'.repeat(64) }),
          file({ key: 'b/c.jsonl.gz', format: 'jsonl', gzip: true }),
          file({ key: 'd.parquet', format: 'parquet' }),
        ],
        attributes: ['email'],
      }),
    ]);
    const parsed = parseRefreshManifest(text, 'r1');
    expect(parsed).toEqual({ ok: true, manifest: JSON.parse(text) });
  });

  it.each([
    [
      'a key escaping the folder',
      file({ key: 'x/../../other.csv' }),
      'segments[0].files[0].key: must not contain ".."',
    ],
    [
      'an absolute key',
      file({ key: '/etc/a.csv' }),
      'segments[0].files[0].key: must be relative to the refresh folder (no leading "/")',
    ],
    [
      'an over-long key',
      file({ key: `${'k'.repeat(1025)}` }),
      'segments[0].files[0].key: longer than 1024 characters',
    ],
    [
      'an unknown format',
      file({ format: 'xlsx' }),
      'segments[0].files[0].format: Invalid option: expected one of "csv"|"jsonl"|"parquet"',
    ],
    [
      'a negative row count',
      file({ rows: -1 }),
      'segments[0].files[0].rows: Too small: expected number to be >=0',
    ],
    [
      'a checksum that is not hex',
      file({ sha256: 'Z'.repeat(64) }),
      'segments[0].files[0].sha256: must be 64 lowercase hex digits',
    ],
    [
      'gzip on parquet',
      file({ format: 'parquet', gzip: true }),
      'segments[0].files[0].gzip: parquet files compress internally',
    ],
    [
      'an unknown field',
      file({ compression: 'zstd' }),
      'segments[0].files[0]: Unrecognized key: "compression"',
    ],
  ])('names the field of %s', (_, bad, problem) => {
    expect(problems(manifest([segment({ files: [bad] })]))).toEqual([problem]);
  });

  it('names a duplicate segment id', () => {
    expect(problems(manifest([segment(), segment({ name: 'again' })]))).toEqual([
      'segments[1].id: duplicate id "s"',
    ]);
  });

  it('refuses more than 1,000 segments and more than 1,000 files per segment', () => {
    const many = Array.from({ length: 1001 }, (_, i) => segment({ id: `s${i}` }));
    expect(problems(manifest(many))).toEqual(['segments: Too big: expected array to have <=1000 items']);
    const files = Array.from({ length: 1001 }, () => file());
    expect(problems(manifest([segment({ files })]))).toEqual([
      'segments[0].files: Too big: expected array to have <=1000 items',
    ]);
  });

  it('refuses text over 1 MB before parsing it', () => {
    const text = `${manifest([segment()])}${' '.repeat(MANIFEST_MAX_BYTES)}`;
    expect(problems(text)).toEqual([`(root): larger than ${MANIFEST_MAX_BYTES} bytes`]);
  });

  it('refuses invalid JSON, a missing field and a manifest of another refresh', () => {
    expect(problems('{')[0]).toMatch(/^\(root\): not valid JSON/);
    expect(problems(JSON.stringify({ refreshId: 'r1', segments: [] }))).toEqual([
      'createdAt: Invalid input: expected string, received undefined',
    ]);
    expect(problems(manifest([], { refreshId: 'r2' }))).toEqual([
      'refreshId: "r2" does not match the folder\'s "r1"',
    ]);
  });
});
