import type { TextStash } from '#lib/domain/contact-store.ts';

export type { TextStash } from '#lib/domain/contact-store.ts';

/**
 * A fresh stash for one planning invocation's contact texts (the planner releases it when the
 * invocation ends). Nothing in it outlives the invocation: a resumed run reads its texts back from
 * its checkpoint, since the next invocation may run in another container with another /tmp.
 */
export type TextStashes = () => TextStash;
