/** Keys of the segment table (see lib/adapters/dynamodb/README.md, "Segment table"). */
export const SEGMENTS_PK = 'SEGMENTS';
export const MEMBER_PREFIX = 'P#';
export const segmentPk = (segmentId: string): string => `SEG#${segmentId}`;
export const memberSk = (profileId: string): string => `${MEMBER_PREFIX}${profileId}`;
/** The attribute holding a member's profile attributes (a map). */
export const ATTRIBUTES = 'a';
/** The segment item's string set of the attribute names its members carry (kept by the writer). */
export const SEGMENT_ATTRIBUTES = 'attributes';
