import * as z from 'zod';
import { ValidationError } from '#lib/domain/errors.ts';
import {
  DataMatchingSchema,
  type ExportConfig,
  ExportConfigSchema,
  listTitle,
  membershipFieldName,
} from '#lib/domain/export-config.ts';
import { type Issue, idText, nameText, omittedDefaults } from '#lib/domain/validation.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';

/**
 * An export configuration as a person sends it: the stored shape, with names free of control
 * characters and ids bounded. Records are read back with the stored shape, so one saved before
 * these rules stays readable.
 */
export const ExportInputSchema = ExportConfigSchema.safeExtend({
  name: nameText(200),
  connectionId: idText().nullable(),
  // Keys are checked against the selected segments by the stored shape's refinement.
  listTitles: z.record(z.string(), nameText(200)).default({}),
});

/** Every selected segment must exist in the source; the error names each missing one by path. */
export const checkSegmentsExist = async (
  segments: SegmentSource,
  ids: readonly string[],
): Promise<SegmentInfo[]> => {
  const missing: Issue[] = [];
  const found: SegmentInfo[] = [];
  for (const [i, id] of ids.entries()) {
    const segment = await segments.getSegment(id);
    if (segment === undefined) {
      missing.push({ path: `segmentIds.${i}`, reason: `no segment "${id}" exists in the segment source` });
    } else found.push(segment);
  }
  if (missing.length > 0) throw new ValidationError(missing);
  return found;
};

/**
 * Each segment needs its own list (or membership field): two sharing one would merge into it, and
 * one segment's leavers would come off the other's list. Names both, whether the clash is explicit
 * or comes from two segments with the same name.
 */
const checkDistinctTargets = (config: ExportConfig, segments: readonly SegmentInfo[]): void => {
  const list = config.membership === 'list';
  const field = list ? 'listTitles' : 'membershipFields';
  const target = (s: SegmentInfo) => (list ? listTitle(config, s) : membershipFieldName(config, s));
  // Custom fields are matched without regard to case; list titles exactly.
  const key = (s: SegmentInfo) => (list ? target(s) : target(s).toLowerCase());
  const what = list ? 'list title' : 'membership field';
  const issues = segments.flatMap((s) => {
    const others = segments.filter((o) => o.id !== s.id && key(o) === key(s)).map((o) => `"${o.id}"`);
    if (others.length === 0) return [];
    const reason = `segment ${others.join(', ')} has the same ${what} "${target(s)}"; give each segment its own`;
    return [{ path: `${field}.${s.id}`, reason }];
  });
  if (issues.length > 0) throw new ValidationError(issues);
};

/** What a saved configuration is checked against beyond its schema: the segments it selects. */
export const checkAgainstSegments = async (
  deps: { segments: SegmentSource },
  config: ExportConfig,
): Promise<SegmentInfo[]> => {
  const segments = await checkSegmentsExist(deps.segments, config.segmentIds);
  checkDistinctTargets(config, segments);
  return segments;
};

/**
 * The whole configuration, as the editor saves it: every field is sent (a field left out would
 * silently reset to its default), nothing unknown; `version` guards concurrent edits.
 */
export const UpdateExportInputSchema = ExportInputSchema.safeExtend({
  version: z.number().int().min(1),
}).strict();

export const fullDocument = (input: unknown): Issue[] => {
  const dataMatching =
    typeof input === 'object' && input !== null ? (input as Record<string, unknown>).dataMatching : undefined;
  return [
    ...omittedDefaults(ExportConfigSchema.shape, input),
    ...omittedDefaults(DataMatchingSchema.shape, dataMatching, 'dataMatching'),
  ];
};
