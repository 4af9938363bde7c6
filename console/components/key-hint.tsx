/**
 * A connection's API key as admins see it: "•••• abcd", its last 4 characters, or `unknown` for a
 * connection created before the API kept hints. The dots are hidden from screen readers, which say
 * "ending in abcd" instead.
 */
export const KeyHint = ({ hint, unknown }: { hint: string | undefined; unknown: string }) =>
  hint === undefined ? (
    unknown
  ) : (
    <>
      <span aria-hidden="true">•••• </span>
      <span class="visually-hidden">ending in </span>
      {hint}
    </>
  );
