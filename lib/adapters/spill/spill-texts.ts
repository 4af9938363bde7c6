import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TextStash } from '#lib/ports/text-stash.ts';

export interface SpillTextsOptions {
  /** Where the file goes (Lambda: /tmp, its ephemeral storage). */
  dir: string;
  /** Characters kept on the heap before every text moves to the file (small runs never touch it). */
  spillAboveChars: number;
  /** Bytes written per write call (and read from memory until written). */
  bufferBytes?: number;
}

const DEFAULT_BUFFER = 1 << 20;
const files = { next: 0 };

// A stash dropped unreleased (an invocation that threw past its cleanup) still closes its file.
const unreleased = new FinalizationRegistry<number>((fd) => closeSync(fd));

/**
 * Contact texts on the heap while they are few, then in an append-only file read back by
 * position: at a million contacts the texts are ~100 MB that would otherwise sit in the heap,
 * where V8's growth slack makes them cost more again. The file is unlinked as soon as it is open,
 * so it disappears when closed, or when the process dies, leaving nothing in /tmp. A text set
 * again (a merge's winner) is appended; the old bytes stay behind, unread.
 */
export class SpillTexts implements TextStash {
  private memory: string[] | undefined = [];
  private chars = 0;
  private fd: number | undefined;
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024);
  private readonly buffer: Buffer;
  /** Bytes of `buffer` in use; they start at file position `flushed`. */
  private used = 0;
  private flushed = 0;
  private scratch = Buffer.allocUnsafe(4096);

  constructor(private readonly options: SpillTextsOptions) {
    this.buffer = Buffer.allocUnsafe(options.bufferBytes ?? DEFAULT_BUFFER);
  }

  /** Bytes in the file (0 until the texts spill). */
  get spilledBytes(): number {
    return this.flushed + this.used;
  }

  set(slot: number, text: string): void {
    if (this.memory !== undefined) {
      this.chars += text.length - (this.memory[slot]?.length ?? 0);
      this.memory[slot] = text;
      if (this.chars > this.options.spillAboveChars) this.spill(this.memory);
      return;
    }
    this.append(slot, text);
  }

  get(slot: number): string {
    if (this.memory !== undefined) return this.memory[slot] ?? '';
    const length = this.lengths[slot] ?? 0;
    if (length === 0) return '';
    const at = (this.offsets[slot] ?? 0) - this.flushed;
    if (at >= 0) return this.buffer.toString('utf8', at, at + length);
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(length * 2);
    const fd = this.fd as number;
    const position = this.offsets[slot] ?? 0;
    let read = 0;
    while (read < length) {
      const n = readSync(fd, this.scratch, read, length - read, position + read);
      if (n === 0)
        throw new Error(`Spill file: text of slot ${slot} is cut short at ${read} of ${length} bytes`);
      read += n;
    }
    return this.scratch.toString('utf8', 0, length);
  }

  release(): void {
    this.memory = undefined;
    if (this.fd !== undefined) {
      unreleased.unregister(this);
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.offsets = new Float64Array(0);
    this.lengths = new Int32Array(0);
  }

  private spill(texts: string[]): void {
    const path = join(this.options.dir, `contact-texts-${process.pid}-${files.next++}.spill`);
    const fd = openSync(path, 'w+', 0o600);
    unlinkSync(path);
    this.fd = fd;
    unreleased.register(this, fd, this);
    this.memory = undefined;
    for (let slot = 0; slot < texts.length; slot++) {
      const text = texts[slot];
      if (text !== undefined) this.append(slot, text);
    }
  }

  private append(slot: number, text: string): void {
    if (slot >= this.offsets.length) this.grow(slot);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: check room before writing, never truncate.
    const most = text.length * 3;
    if (this.used + most > this.buffer.length) this.flush();
    const offset = this.flushed + this.used;
    let length: number;
    if (most > this.buffer.length) {
      const bytes = Buffer.from(text, 'utf8');
      this.write(bytes, bytes.length);
      this.flushed += bytes.length;
      length = bytes.length;
    } else {
      length = this.buffer.write(text, this.used, 'utf8');
      this.used += length;
    }
    this.offsets[slot] = offset;
    this.lengths[slot] = length;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.write(this.buffer, this.used);
    this.flushed += this.used;
    this.used = 0;
  }

  private write(bytes: Buffer, length: number): void {
    const fd = this.fd as number;
    let written = 0;
    try {
      while (written < length)
        written += writeSync(fd, bytes, written, length - written, this.flushed + written);
    } catch (error) {
      throw new Error(
        `The planner's spill file in ${this.options.dir} could not grow past ${this.flushed + written} bytes ` +
          `(${(error as Error).message}); give the function more ephemeral storage`,
        { cause: error },
      );
    }
  }

  private grow(slot: number): void {
    let size = this.offsets.length * 2;
    while (size <= slot) size *= 2;
    const offsets = new Float64Array(size);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Int32Array(size);
    lengths.set(this.lengths);
    this.lengths = lengths;
  }
}

/** A stash per planning invocation in `dir`, spilling once the texts pass `spillAboveChars`. */
export const spillTexts =
  (options: SpillTextsOptions): (() => TextStash) =>
  () =>
    new SpillTexts(options);
