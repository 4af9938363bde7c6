import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import type { RefreshFileFormat } from '#lib/domain/refresh-manifest.ts';
import type { DropSegment } from './refresh-drop.ts';
import { DropFileError } from './refresh-file-facts.ts';

/*
 * A folder of a user's own segment files → the segments of a refresh: each file is one segment,
 * its id the file name without the extension, its format from the extension. An optional
 * `segments.json` gives names (the file-source layout's: `[{"id", "name", "file"?}]`).
 */

export const NAMES_FILE = 'segments.json';
const NAMES_MAX_BYTES = 1024 * 1024;

/** Longest first, so `.csv.gz` is not read as `.gz`. */
const EXTENSIONS: ReadonlyArray<{ ext: string; format: RefreshFileFormat; gzip: boolean }> = [
  { ext: '.jsonl.gz', format: 'jsonl', gzip: true },
  { ext: '.csv.gz', format: 'csv', gzip: true },
  { ext: '.parquet', format: 'parquet', gzip: false },
  { ext: '.jsonl', format: 'jsonl', gzip: false },
  { ext: '.csv', format: 'csv', gzip: false },
];
export const ACCEPTED_EXTENSIONS = EXTENSIONS.map((e) => e.ext)
  .reverse()
  .join(', ');

const NamesSchema = z
  .array(
    z
      .object({
        id: z.string().min(1).max(256),
        name: z.string().min(1).max(256),
        file: z.string().optional(),
      })
      .strict(),
  )
  .max(1000);

const readNames = async (dir: string, files: Set<string>): Promise<z.infer<typeof NamesSchema>> => {
  const path = join(dir, NAMES_FILE);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return [];
  const where = `${path}`;
  if (info.size > NAMES_MAX_BYTES) throw new DropFileError(`${where}: larger than ${NAMES_MAX_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new DropFileError(`${where}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = NamesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DropFileError(`${where}: [${issue?.path.map(String).join('].')}] ${issue?.message}`);
  }
  for (const entry of parsed.data) {
    if (entry.file !== undefined && !files.has(entry.file))
      throw new DropFileError(`${where}: "${entry.file}" (segment "${entry.id}") is not in the folder`);
  }
  return parsed.data;
};

/** The segments a folder holds; every refusal names the file and why. */
export const readRefreshFolder = async (dir: string): Promise<DropSegment[]> => {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new DropFileError(`${dir}: cannot read the folder (${error.code ?? error.message})`);
  });
  const found: Array<{ file: string; id: string; format: RefreshFileFormat; gzip: boolean }> = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // Dot files are the file system's or an editor's (.DS_Store), never a segment.
    if (entry.name.startsWith('.') || entry.name === NAMES_FILE) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      throw new DropFileError(`${path}: a folder; put each segment's file directly in ${dir}`);
    const lower = entry.name.toLowerCase();
    const kind = EXTENSIONS.find((e) => lower.endsWith(e.ext));
    if (!kind) {
      throw new DropFileError(`${path}: unknown extension (a segment file ends in ${ACCEPTED_EXTENSIONS})`);
    }
    found.push({ file: entry.name, id: entry.name.slice(0, -kind.ext.length), ...kind });
  }
  if (found.length === 0) {
    throw new DropFileError(`${dir}: no segment files (expected files ending in ${ACCEPTED_EXTENSIONS})`);
  }
  const names = await readNames(dir, new Set(found.map((f) => f.file)));
  const segments = found.map(({ file, id, format, gzip }): DropSegment => {
    const entry =
      names.find((n) => n.file === file) ?? names.find((n) => n.file === undefined && n.id === id);
    const segmentId = entry?.id ?? id;
    return {
      id: segmentId,
      name: entry?.name ?? segmentId,
      files: [{ key: file, format, gzip, body: { path: join(dir, file) }, label: join(dir, file) }],
    };
  });
  const byId = new Map<string, string>();
  for (const s of segments) {
    const file = s.files[0]?.key ?? '';
    const other = byId.get(s.id);
    if (other !== undefined)
      throw new DropFileError(`${join(dir, file)}: segment "${s.id}" again (also ${join(dir, other)})`);
    byId.set(s.id, file);
  }
  for (const n of names) {
    if (n.file === undefined && !byId.has(n.id))
      throw new DropFileError(`${join(dir, NAMES_FILE)}: segment "${n.id}" has no file in the folder`);
  }
  return segments;
};
