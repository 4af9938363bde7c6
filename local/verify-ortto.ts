import { ORTTO_PAGE_LIMIT, OrttoClient, type PageCursor } from '#lib/adapters/ortto/client.ts';
import { CONSENT_FIELDS } from '#lib/adapters/ortto/encoding.ts';
import type { SampleDataset } from './sample-data.ts';
import {
  compare,
  expectedMembers,
  pacedReads,
  type ReadPacing,
  type SegmentCheck,
  type VerifyResult,
} from './verify.ts';

export interface OrttoVerifyResult extends VerifyResult {
  /** Per segment tag: what `tags/get` counts, beside the members read back. */
  counts: Array<{ tag: string; counted: number | undefined; readBack: number }>;
  /** People whose email permission is not what it was before the runs (re-subscribed or unsubscribed). */
  consentChanged: number;
}

/**
 * Reads back what the Ortto account holds, through the public API (the stand-in and the real
 * service alike): every person with their email and tags, 500 a page — person/get's tag filter is
 * undocumented, so nothing here relies on it — and each segment tag's count from `tags/get`. Every
 * read goes through `pacing`, as the pipeline's own requests do.
 *
 * `consentBefore`: email → `bol::p` as it was before the runs; any difference is a consent change
 * the exporter must never make.
 */
export const verifyAgainstOrtto = async (options: {
  baseUrl: string;
  apiKey: string;
  dataset: SampleDataset;
  tags: Array<{ segmentId: string; name: string; tag: string }>;
  consentBefore?: ReadonlyMap<string, unknown>;
  pacing: ReadPacing;
}): Promise<OrttoVerifyResult> => {
  const { hooks, call, tally } = pacedReads(options.pacing);
  const client = new OrttoClient({ apiKey: options.apiKey, baseUrl: options.baseUrl, hooks });
  const members = new Map(options.tags.map((t) => [t.tag, new Set<string>()]));
  let consentChanged = 0;
  let from: PageCursor | undefined;
  do {
    const page = await call(() =>
      client.getPeople({ fields: ['str::email', 'tags', ...CONSENT_FIELDS], limit: ORTTO_PAGE_LIMIT }, from),
    );
    for (const person of page.people) {
      const email = person.fields['str::email'];
      if (typeof email !== 'string') continue;
      const key = email.toLowerCase();
      const tags = person.fields.tags;
      if (Array.isArray(tags))
        for (const tag of tags) if (typeof tag === 'string') members.get(tag)?.add(key);
      const before = options.consentBefore?.get(key);
      if (options.consentBefore?.has(key) && person.fields['bol::p'] !== before) consentChanged++;
    }
    from = page.next;
  } while (from !== undefined);
  const counted = new Map((await call(() => client.getTags())).map((t) => [t.name, t.count]));
  const checks: SegmentCheck[] = [];
  const counts: OrttoVerifyResult['counts'] = [];
  for (const t of options.tags) {
    const actual = members.get(t.tag) ?? new Set<string>();
    checks.push(compare(t.name, expectedMembers(options.dataset, t.segmentId), actual));
    counts.push({ tag: t.tag, counted: counted.get(t.tag), readBack: actual.size });
  }
  return { checks, requests: tally, counts, consentChanged };
};
