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

/** The words a person reads for a target: `list "VIP"`, `field "Segment VIP"`. */
export const describeTarget = (target: MembershipTarget): string => `${target.kind} "${target.name}"`;
