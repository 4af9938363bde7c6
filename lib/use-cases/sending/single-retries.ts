import type { ContactData } from '#lib/domain/contact.ts';
import { PermanentError } from '#lib/domain/errors.ts';
import type { ContactResult } from '#lib/ports/destination.ts';
import type { ConnectionAccess } from '../destination-calls.ts';
import type { SendBatchDeps } from './context.ts';
import { rejectedAll } from './rejections.ts';

/**
 * A bulk upsert may report rejected contacts without a reason (Autopilot); retrying a few of them one
 * by one either gets them in or tells us why. A rejection the destination explained (Ortto) is final:
 * its retry would be one more refused request, and Ortto bans an IP for fifteen of them. Many rejections suggest a systemic cause: those are recorded as they
 * are rather than multiplied into single requests. Results are replaced in place, so a delivery
 * stopped during these retries keeps the bulk answer.
 */
export const retrySingly = async (
  deps: Pick<SendBatchDeps, 'settings'>,
  items: ReadonlyArray<{ data: ContactData }>,
  into: ContactResult[],
  offset: number,
  call: ConnectionAccess['call'],
  session: ConnectionAccess['session'],
): Promise<void> => {
  const rejected = items.flatMap((_, i) => {
    const result = into[offset + i];
    return result?.ok === false && result.explained !== true ? [i] : [];
  });
  if (rejected.length === 0 || rejected.length > deps.settings.singleRetryLimit) return;
  for (const i of rejected) {
    const item = items[i];
    if (item === undefined) continue;
    let single: ContactResult | undefined;
    try {
      [single] = await call(() => session.upsertMany([item.data]));
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      [single] = rejectedAll([item.data.email], error);
    }
    if (single !== undefined) into[offset + i] = single;
  }
};
