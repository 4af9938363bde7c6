import { randomUUID } from 'node:crypto';

/** Ids that sort by creation time (so run ids list in start order) and never collide. */
export const newId = (kind: 'conn' | 'exp' | 'run', now: number = Date.now()): string =>
  `${kind}_${now.toString(36).padStart(9, '0')}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
