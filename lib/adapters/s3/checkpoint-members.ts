import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** A stored checkpoint that cannot be what a save wrote: truncated, altered, or not gzip. */
export class CorruptCheckpointError extends Error {
  override readonly name = 'CorruptCheckpointError';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Corrupt checkpoint s3 object ${key}: ${detail}`);
  }
}

/** A gzip member as zlib writes it: magic, deflate, no optional header fields (10 bytes). */
const GZIP_HEADER = 10;
const GZIP_TRAILER = 8;
export const isGzipMember = (bytes: Uint8Array, at: number): boolean =>
  bytes[at] === 0x1f && bytes[at + 1] === 0x8b && bytes[at + 2] === 8 && bytes[at + 3] === 0;

type Inflated = { buffer: Buffer; engine: { bytesWritten: number } };

/** The member at the start of `bytes` and the compressed bytes it took, header and trailer included. */
const inflateMember = (bytes: Uint8Array): { text: string; length: number } => {
  const member = inflateRawSync(bytes.subarray(GZIP_HEADER), { info: true }) as unknown as Inflated;
  return {
    text: member.buffer.toString('utf8'),
    length: GZIP_HEADER + member.engine.bytesWritten + GZIP_TRAILER,
  };
};

/** Inflates member after member of a body held in memory. */
export function* inflateMembers(key: string, bytes: Buffer): Generator<string> {
  let at = 0;
  while (at < bytes.length) {
    if (!isGzipMember(bytes, at)) throw new CorruptCheckpointError(key, `is not gzip at byte ${at}`);
    let member: { text: string; length: number };
    try {
      member = inflateMember(bytes.subarray(at));
    } catch (error) {
      throw new CorruptCheckpointError(key, `does not inflate at byte ${at} (${(error as Error).message})`);
    }
    at += member.length;
    yield member.text;
  }
}

/** A body written to a file of its own, unlinked once open: it goes when closed or when the process ends. */
export interface BodyFile {
  fd: number;
  length: number;
  sha256: string;
}

const files = { next: 0 };
// A body file dropped unread (an invocation that threw before reading it all) still closes.
const unclosed = new FinalizationRegistry<{ fd: number; open: boolean }>((file) => {
  if (file.open) closeSync(file.fd);
});

/**
 * Writes a body to a file in `dir` as it arrives, hashing it: a million-contact checkpoint is ~115 MB
 * of gzip that the planner would otherwise hold whole while it parses what it inflates.
 */
export const bodyToFile = async (
  key: string,
  body: AsyncIterable<Uint8Array>,
  declared: number,
  dir: string,
): Promise<BodyFile> => {
  const path = join(dir, `checkpoint-${process.pid}-${files.next++}.gz`);
  const fd = openSync(path, 'w+', 0o600);
  unlinkSync(path);
  const hash = createHash('sha256');
  let length = 0;
  try {
    for await (const chunk of body) {
      if (length + chunk.length > declared)
        throw new CorruptCheckpointError(key, `its body is longer than its ${declared} bytes`);
      hash.update(chunk);
      for (let written = 0; written < chunk.length; )
        written += writeSync(fd, chunk, written, chunk.length - written, length + written);
      length += chunk.length;
    }
    if (length < declared)
      throw new CorruptCheckpointError(key, `its body ended at byte ${length} of ${declared}`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { fd, length, sha256: hash.digest('hex') };
};

/** Bytes read from the file per look: members are ~0.5 MB of gzip (the save cuts ~1 MB of text each). */
const WINDOW_BYTES = 4 * 1024 * 1024;
/** A member longer than this is not one a save wrote. */
const MAX_WINDOW_BYTES = 64 * 1024 * 1024;

/**
 * Inflates member after member of a body file, holding a window of it rather than the whole; the
 * file closes when the last member is read, when the reader stops early, or failing both when the
 * generator is collected.
 */
export function inflateFileMembers(key: string, file: BodyFile): Generator<string> {
  const handle = { fd: file.fd, open: true };
  const members = readFileMembers(key, file, handle);
  unclosed.register(members, handle);
  return members;
}

function* readFileMembers(key: string, file: BodyFile, handle: { open: boolean }): Generator<string> {
  let window = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, Math.max(1, file.length)));
  let start = 0;
  let end = 0;
  const fill = (from: number): void => {
    const want = Math.min(window.length, file.length - from);
    let got = 0;
    while (got < want) {
      const n = readSync(file.fd, window, got, want - got, from + got);
      if (n === 0) throw new CorruptCheckpointError(key, `its file ended at byte ${from + got}`);
      got += n;
    }
    start = from;
    end = from + want;
  };
  try {
    let at = 0;
    while (at < file.length) {
      if (at + GZIP_HEADER > end) fill(at);
      if (!isGzipMember(window, at - start))
        throw new CorruptCheckpointError(key, `is not gzip at byte ${at}`);
      let member: { text: string; length: number } | undefined;
      while (member === undefined) {
        try {
          member = inflateMember(window.subarray(at - start, end - start));
        } catch (error) {
          // A member running past the window: read from its start, with a larger window if need be.
          if (end >= file.length && start === at)
            throw new CorruptCheckpointError(
              key,
              `does not inflate at byte ${at} (${(error as Error).message})`,
            );
          if (start === at) {
            if (window.length >= MAX_WINDOW_BYTES)
              throw new CorruptCheckpointError(
                key,
                `has a member at byte ${at} longer than ${MAX_WINDOW_BYTES} bytes`,
              );
            window = Buffer.allocUnsafe(window.length * 2);
          }
          fill(at);
        }
      }
      at += member.length;
      yield member.text;
    }
  } finally {
    handle.open = false;
    closeSync(file.fd);
  }
}
