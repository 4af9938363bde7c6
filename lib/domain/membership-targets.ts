import { type ExportConfig, membershipTargetName } from './export-config.ts';

/**
 * Where an export writes membership on its connection: a list (list mode), a boolean field (field
 * mode) or a tag (tag mode) per segment. One export owns each target: two exports writing one list would remove each
 * other's contacts.
 */
export interface MembershipTarget {
  kind: 'list' | 'field' | 'tag';
  name: string;
}

/** The export's targets for these segments (distinct, in segment order). */
export const membershipTargets = (
  config: Pick<ExportConfig, 'membership' | 'listTitles' | 'membershipFields' | 'membershipTags'>,
  segments: ReadonlyArray<{ id: string; name: string }>,
): MembershipTarget[] => {
  const kind = config.membership;
  const names = segments.map((s) => membershipTargetName(config as ExportConfig, s));
  return [...new Set(names)].map((name) => ({ kind, name }));
};

/** What an export names its targets in each mode, as the settings call them. */
const TARGET_SETTING: Readonly<Record<MembershipTarget['kind'], string>> = {
  list: 'list titles',
  field: 'membership fields',
  tag: 'tag names',
};

/**
 * Why two exports may not share a target, and what to do instead, in the words of the mode:
 * "Each list on a connection belongs to one export; give these segments their own list titles."
 */
export const oneOwnerAdvice = (kind: MembershipTarget['kind']): string =>
  `Each ${kind === 'field' ? 'membership field' : kind} on a connection belongs to one export; ` +
  `give these segments their own ${TARGET_SETTING[kind]}.`;

/** The words a person reads for a target: `list "VIP"`, `field "Segment VIP"`, `tag "Segment VIP"`. */
export const describeTarget = (target: MembershipTarget): string => `${target.kind} "${target.name}"`;
