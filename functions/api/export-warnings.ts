import type { ExportConfig } from '#lib/domain/export-config.ts';
import { readAttribute } from '#lib/domain/mapping.ts';
import type { Issue } from '#lib/domain/validation.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';

/** Profiles sampled from the start of each selected segment: one small page read each. */
export const WARNING_SAMPLE = 25;

type Attributes = Record<string, unknown>;

const carries = (profiles: readonly Attributes[], name: string): boolean =>
  profiles.some((p) => {
    const value = readAttribute(p, name);
    return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
  });

/**
 * Warnings (not errors: the data may still come) about a saved export's field matching. The segment
 * source cannot list a segment's attributes, so the first page of each segment stands in: a segment
 * where no sampled profile has the email attribute would send nobody, and a mapped field that no
 * sampled profile of any segment has would always be empty.
 */
export const matchingWarnings = async (segments: SegmentSource, config: ExportConfig): Promise<Issue[]> => {
  const sampled: Array<[id: string, profiles: Attributes[]]> = [];
  for (const id of config.segmentIds) {
    try {
      const page = await segments.readPage(id, undefined, WARNING_SAMPLE);
      if (page.profiles.length > 0) sampled.push([id, page.profiles.map((p) => p.attributes)]);
    } catch {
      // Advisory only: a segment that cannot be read now is for the run to report, not the save.
    }
  }
  const { email, fields, custom, updatedAt } = config.dataMatching;
  const warnings: Issue[] = sampled
    .filter(([, profiles]) => !carries(profiles, email))
    .map(([id, profiles]) => ({
      path: 'dataMatching.email',
      reason: `none of the first ${profiles.length} profile(s) of segment "${id}" has "${email}": a run would find no email for them`,
    }));
  const all = sampled.flatMap(([, profiles]) => profiles);
  if (all.length === 0) return warnings;
  const mapped: Array<[path: string, source: string]> = [
    ...Object.entries(fields).flatMap(
      ([f, source]): Array<[string, string]> =>
        source === undefined ? [] : [[`dataMatching.fields.${f}`, source]],
    ),
    ...custom.map((c, i): [string, string] => [`dataMatching.custom.${i}.source`, c.source]),
    ...(updatedAt === undefined ? [] : [['dataMatching.updatedAt', updatedAt] as [string, string]]),
  ];
  for (const [path, source] of mapped) {
    if (!carries(all, source)) {
      warnings.push({
        path,
        reason: `none of the ${all.length} profile(s) sampled from the selected segments has "${source}": the field would stay empty`,
      });
    }
  }
  return warnings;
};
