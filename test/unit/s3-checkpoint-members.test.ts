import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  bodyToFile,
  CorruptCheckpointError,
  inflateFileMembers,
} from '#lib/adapters/s3/checkpoint-members.ts';
import { openFds, tempDirs } from '#test/support/temp-dirs.ts';

const dir = tempDirs('checkpoint-body-');

/** The body as S3 streams it: in chunks that fall anywhere. */
async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('a large checkpoint body read through a file', () => {
  it('gives back every member, across window edges and past the window, and leaves no file open', async () => {
    // Many small members, then one of ~6 MB that does not compress (longer than the 4 MB window).
    const texts = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(i % 700)}\n`);
    texts.push(randomBytes(4_500_000).toString('base64'));
    texts.push('the last member\n');
    const body = Buffer.concat(texts.map((t) => gzipSync(t, { level: 1 })));
    const fds = openFds();

    const where = dir();
    const file = await bodyToFile('k', chunks(body, 65_536), body.length, where);
    expect(file.length).toBe(body.length);
    expect(readdirSync(where)).toEqual([]); // unlinked once open
    expect([...inflateFileMembers('k', file)]).toEqual(texts);
    expect(openFds()).toBe(fds);
  });

  it('refuses a body cut short or longer than declared, and a member that does not inflate, closing the file', async () => {
    const body = Buffer.concat([gzipSync('a\n'), gzipSync('b\n')]);
    const fds = openFds();
    await expect(bodyToFile('k', chunks(body, 3), body.length + 1, dir())).rejects.toThrow(
      new CorruptCheckpointError('k', `its body ended at byte ${body.length} of ${body.length + 1}`),
    );
    await expect(bodyToFile('k', chunks(body, 3), body.length - 1, dir())).rejects.toBeInstanceOf(
      CorruptCheckpointError,
    );
    const broken = Buffer.from(body);
    broken.fill(0xff, 12, 16); // inside the first member's deflate stream
    const file = await bodyToFile('k', chunks(broken, 7), broken.length, dir());
    expect(() => [...inflateFileMembers('k', file)]).toThrow(CorruptCheckpointError);
    expect(openFds()).toBe(fds);
  });

  it('closes the file when its reader stops early', async () => {
    const body = Buffer.concat(['a\n', 'b\n', 'c\n'].map((t) => gzipSync(t)));
    const fds = openFds();
    const file = await bodyToFile('k', chunks(body, 5), body.length, dir());
    for (const text of inflateFileMembers('k', file)) if (text === 'a\n') break;
    expect(openFds()).toBe(fds);
  });
});
