/**
 * A message for the next page to show once (e.g. "Saved" after a save navigates to the export).
 * Kept in memory like everything else the console holds; the page that shows it takes it.
 */
export interface Notice {
  text: string;
  /** What the API noticed but did not refuse (a save's warnings). */
  details: string[];
}

let pending: Notice | undefined;

export const leaveNotice = (text: string, details: string[] = []): void => {
  pending = { text, details };
};

export const takeNotice = (): Notice | undefined => {
  const notice = pending;
  pending = undefined;
  return notice;
};
