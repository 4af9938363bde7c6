import * as z from 'zod';
import { maskEmail } from '#lib/domain/email.ts';

/**
 * What EventBridge delivers when an object is created in the segment bucket (S3 "Object Created").
 * Only the fields the arrival uses are checked; the event carries more.
 */
export const RefreshArrivedEventSchema = z.object({
  /** The event's id: the same on every retry of this event, so its retries share one lease. */
  id: z.string().min(1).max(256),
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1).max(255) }),
    object: z.object({ key: z.string().min(1).max(1024) }),
  }),
});
export type RefreshArrivedEvent = z.infer<typeof RefreshArrivedEventSchema>;

const MANIFEST = 'manifest.json';
const MAX_REFRESH_ID_CHARS = 256;

/** The refresh id of a refresh folder's manifest key, `refreshes/<refreshId>/manifest.json`; else undefined. */
export const manifestRefreshId = (key: string): string | undefined => {
  const parts = key.split('/');
  if (parts.length !== 3 || parts[0] !== 'refreshes' || parts[2] !== MANIFEST) return undefined;
  const refreshId = parts[1] ?? '';
  if (refreshId === '' || refreshId === '.' || refreshId === '..') return undefined;
  return refreshId.length <= MAX_REFRESH_ID_CHARS ? refreshId : undefined;
};

/** A key fit for a log line: file names are the uploader's, so any part that may be an address is masked. */
export const loggableKey = (key: string): string =>
  key
    .slice(0, 300)
    .split('/')
    .map((part) => (part.includes('@') ? maskEmail(part) : part))
    .join('/');
