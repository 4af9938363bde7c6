/** A number input's value for the API: blank means "use the default", so it is left out. */
export const optionalNumber = (value: string): number | undefined => {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : Number(trimmed);
};
