import * as z from 'zod';

/*
 * The manifest of one refresh folder in S3 (`refreshes/<refreshId>/manifest.json`): which segments
 * the refresh holds and which files carry each one's rows. Every size is bounded, and checked
 * before any pattern is applied, so a hostile manifest costs at most a megabyte of parsing.
 */

export const MANIFEST_MAX_BYTES = 1024 * 1024;
export const MANIFEST_MAX_SEGMENTS = 1000;
export const MANIFEST_MAX_FILES = 1000;
export const MANIFEST_MAX_KEY_CHARS = 1024;
const MAX_ATTRIBUTES = 1000;
const MAX_NAME_CHARS = 256;

export const REFRESH_FILE_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type RefreshFileFormat = (typeof REFRESH_FILE_FORMATS)[number];

const isHex = (text: string): boolean => {
  for (const c of text) if (!'0123456789abcdef'.includes(c)) return false;
  return true;
};

/** A key relative to the refresh folder: no way out of it, no absolute path. */
const RelativeKey = z
  .string()
  .min(1)
  .superRefine((key, ctx) => {
    if (key.length > MANIFEST_MAX_KEY_CHARS) {
      ctx.addIssue({ code: 'custom', message: `longer than ${MANIFEST_MAX_KEY_CHARS} characters` });
    } else if (key.startsWith('/')) {
      ctx.addIssue({ code: 'custom', message: 'must be relative to the refresh folder (no leading "/")' });
    } else if (key.split('/').includes('..')) {
      ctx.addIssue({ code: 'custom', message: 'must not contain ".."' });
    }
  });

export const RefreshFileSchema = z
  .object({
    key: RelativeKey,
    format: z.enum(REFRESH_FILE_FORMATS),
    gzip: z.boolean().optional(),
    /** Data rows in the file (a CSV header is not one); checked by the source's `verify()`. */
    rows: z.number().int().nonnegative().optional(),
    /** Hex SHA-256 of the object's bytes as stored (compressed when `gzip`). */
    sha256: z
      .string()
      .length(64)
      .refine((h) => h.length !== 64 || isHex(h), 'must be 64 lowercase hex digits')
      .optional(),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (file.gzip && file.format === 'parquet') {
      ctx.addIssue({ code: 'custom', path: ['gzip'], message: 'parquet files compress internally' });
    }
  });
export type RefreshFile = z.infer<typeof RefreshFileSchema>;

export const RefreshSegmentSchema = z
  .object({
    id: z.string().min(1).max(MAX_NAME_CHARS),
    name: z.string().min(1).max(MAX_NAME_CHARS),
    files: z.array(RefreshFileSchema).min(1).max(MANIFEST_MAX_FILES),
    attributes: z.array(z.string().min(1).max(MAX_NAME_CHARS)).max(MAX_ATTRIBUTES).optional(),
  })
  .strict();
export type RefreshSegment = z.infer<typeof RefreshSegmentSchema>;

export const RefreshManifestSchema = z
  .object({
    refreshId: z.string().min(1).max(MAX_NAME_CHARS),
    createdAt: z.iso.datetime({ offset: true }),
    segments: z.array(RefreshSegmentSchema).max(MANIFEST_MAX_SEGMENTS),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.segments.forEach((segment, i) => {
      if (seen.has(segment.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', i, 'id'],
          message: `duplicate id "${segment.id}"`,
        });
      }
      seen.add(segment.id);
    });
  });
export type RefreshManifest = z.infer<typeof RefreshManifestSchema>;

export type ManifestResult = { ok: true; manifest: RefreshManifest } | { ok: false; problems: string[] };

/**
 * Parses manifest text. `expectedRefreshId` guards against a manifest copied into the wrong folder.
 * Problems name the field: `segments[2].files[0].key: must not contain ".."`.
 */
export const parseRefreshManifest = (text: string, expectedRefreshId: string): ManifestResult => {
  // Characters never outnumber UTF-8 bytes: the caller bounds the bytes, this bounds direct callers.
  if (text.length > MANIFEST_MAX_BYTES) {
    return { ok: false, problems: [`(root): larger than ${MANIFEST_MAX_BYTES} bytes`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`(root): not valid JSON (${(error as Error).message})`] };
  }
  const parsed = RefreshManifestSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
  }
  if (parsed.data.refreshId !== expectedRefreshId) {
    return {
      ok: false,
      problems: [`refreshId: "${parsed.data.refreshId}" does not match the folder's "${expectedRefreshId}"`],
    };
  }
  return { ok: true, manifest: parsed.data };
};

/** zod path → `segments[2].files[0].key` */
const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? '(root)'
    : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
