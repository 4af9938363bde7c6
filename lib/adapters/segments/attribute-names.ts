/** Names a source reports per segment: plenty for a picker, and a bound on a file or item with countless keys. */
export const MAX_SEGMENT_ATTRIBUTES = 200;
/** A longer name could not be mapped anyway: an export's profile fields are at most 200 characters. */
export const MAX_ATTRIBUTE_NAME = 200;

/**
 * The names a segment reports, however its source found them: the id field, empty and over-long
 * names dropped, duplicates once, at most `MAX_SEGMENT_ATTRIBUTES`, in first-seen order.
 */
export const boundAttributeNames = (names: Iterable<string>, idField: string): string[] => {
  const kept = new Set<string>();
  for (const name of names) {
    if (kept.size === MAX_SEGMENT_ATTRIBUTES) break;
    if (name !== '' && name !== idField && name.length <= MAX_ATTRIBUTE_NAME) kept.add(name);
  }
  return [...kept];
};
