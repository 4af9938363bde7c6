import * as z from 'zod';
import type { Connection } from '#lib/domain/connection.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import {
  DataMatchingSchema,
  type ExportConfig,
  ExportConfigSchema,
  MAX_TAG_NAME,
  membershipTargetName,
} from '#lib/domain/export-config.ts';
import type { MembershipMode } from '#lib/domain/plan.ts';
import { type Issue, idText, nameText, omittedDefaults } from '#lib/domain/validation.ts';
import type { Destinations } from '#lib/ports/destination.ts';
import type { SegmentInfo, SegmentSource } from '#lib/ports/segment-source.ts';
import { DESTINATION_LABELS } from './check-api-key.ts';

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
  // A tag is text people read back in Ortto: no control characters, like a list title.
  membershipTags: z.record(z.string(), nameText(MAX_TAG_NAME)).default({}),
});

const MODE_WORDS: Record<MembershipMode, string> = { list: 'lists', field: 'fields', tag: 'tags' };

/**
 * The membership mode must be one the connection's destination has (Autopilot: lists or fields;
 * Ortto: tags, as its API cannot add people to an audience): a run could not keep it there. An
 * export without a connection may keep any mode until one is attached.
 */
export const checkMembershipMode = (
  destinations: Destinations,
  config: Pick<ExportConfig, 'membership'>,
  connection: Connection | undefined,
): void => {
  if (connection === undefined) return;
  const modes = destinations.for(connection).membershipModes;
  if (modes.includes(config.membership)) return;
  const what = modes.map((m) => MODE_WORDS[m]).join(' or ');
  const use = modes.map((m) => `"${m}"`).join(' or ');
  throw new ValidationError([
    {
      path: 'membership',
      reason: `${DESTINATION_LABELS[connection.type]} connections keep membership as ${what}: use membership ${use}`,
    },
  ]);
};

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

const TARGETS: Record<MembershipMode, { field: keyof ExportConfig; what: string }> = {
  list: { field: 'listTitles', what: 'list title' },
  field: { field: 'membershipFields', what: 'membership field' },
  tag: { field: 'membershipTags', what: 'membership tag' },
};

/**
 * Each segment needs its own list (or membership field, or tag): two sharing one would merge into
 * it, and one segment's leavers would come off the other's list. Names both, whether the clash is
 * explicit or comes from two segments with the same name.
 */
const checkDistinctTargets = (config: ExportConfig, segments: readonly SegmentInfo[]): void => {
  const { field, what } = TARGETS[config.membership];
  const target = (s: SegmentInfo) => membershipTargetName(config, s);
  // Custom fields and tags are matched without regard to case (Ortto documents neither way for
  // tags: two differing only in case are refused rather than risked); list titles exactly.
  const key = (s: SegmentInfo) => (config.membership === 'list' ? target(s) : target(s).toLowerCase());
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
