/**
 * The webhook signing secret a save returned, handed to the export page that save opens. The API
 * returns it once and never again, so it lives only here, in memory, until that page takes it; any
 * other page taking it drops it, so it cannot surface later.
 */
let pending: { exportId: string; secret: string } | undefined;

export const leaveWebhookSecret = (exportId: string, secret: string): void => {
  pending = { exportId, secret };
};

export const takeWebhookSecret = (exportId: string): string | undefined => {
  const taken = pending;
  pending = undefined;
  return taken?.exportId === exportId ? taken.secret : undefined;
};
