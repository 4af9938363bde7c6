import * as z from 'zod';
import { SegmentSourceConfigError } from './errors.ts';

export const MANIFEST_FILE = 'segments.json';

export const SegmentManifestEntrySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** Relative to the directory; `.jsonl` (one JSON object per line) or `.csv` (header row). */
  file: z
    .string()
    .min(1)
    .regex(/\.(jsonl|csv)$/i, 'must end in .jsonl or .csv'),
});
export type SegmentManifestEntry = z.infer<typeof SegmentManifestEntrySchema>;

export const SegmentManifestSchema = z.array(SegmentManifestEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    if (seen.has(entry.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate id "${entry.id}"` });
    seen.add(entry.id);
  });
});

/** The manifest's entries, or a config error naming every bad field (`[2].file: must end in .jsonl or .csv`). */
export const parseManifest = (path: string, json: unknown): SegmentManifestEntry[] => {
  const parsed = SegmentManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
    throw new SegmentSourceConfigError(`${path}: ${problems}`);
  }
  return parsed.data;
};

/** zod path → `[2].file` */
const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? '(root)'
    : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
