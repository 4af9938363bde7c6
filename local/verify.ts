import { AutopilotClient } from '#lib/adapters/autopilot/client.ts';
import { checkEmail } from '#lib/domain/email.ts';
import { type SampleDataset, sampleSegmentMembers } from './sample-data.ts';

export interface SegmentCheck {
  segment: string;
  expected: number;
  actual: number;
  missing: number;
  extra: number;
}

/** The valid, distinct email keys of one sample segment: what its Autopilot list must hold. */
export const expectedMembers = (dataset: SampleDataset, segmentId: string): Set<string> => {
  const keys = new Set<string>();
  for (const p of sampleSegmentMembers(dataset, segmentId)) {
    const e = checkEmail(p.email);
    if (e.ok) keys.add(e.key);
  }
  return keys;
};

const compare = (segment: string, expected: Set<string>, actual: Set<string>): SegmentCheck => {
  let missing = 0;
  for (const k of expected) if (!actual.has(k)) missing++;
  let extra = 0;
  for (const k of actual) if (!expected.has(k)) extra++;
  return { segment, expected: expected.size, actual: actual.size, missing, extra };
};

/**
 * Reads back what Autopilot holds, through the public API (works against the stand-in and the real
 * service alike): list members in list mode, the boolean membership fields in field mode.
 */
export const verifyAgainstAutopilot = async (options: {
  baseUrl: string;
  apiKey: string;
  dataset: SampleDataset;
  mode: 'list' | 'field';
  lists: Array<{ segmentId: string; name: string; listId?: string; field: string }>;
}): Promise<SegmentCheck[]> => {
  const client = new AutopilotClient({ baseUrl: options.baseUrl, apiKey: options.apiKey });
  const checks: SegmentCheck[] = [];
  if (options.mode === 'list') {
    for (const list of options.lists) {
      const actual = new Set<string>();
      if (list.listId) {
        for await (const c of client.allListContacts(list.listId))
          if (c.email) actual.add(c.email.toLowerCase());
      }
      checks.push(compare(list.name, expectedMembers(options.dataset, list.segmentId), actual));
    }
    return checks;
  }
  const flagged = new Map(options.lists.map((l) => [l.field, new Set<string>()]));
  for await (const c of client.allContacts()) {
    for (const [field, set] of flagged)
      if (c.email && c.custom[field]?.value === true) set.add(c.email.toLowerCase());
  }
  for (const list of options.lists) {
    checks.push(
      compare(
        list.name,
        expectedMembers(options.dataset, list.segmentId),
        flagged.get(list.field) ?? new Set(),
      ),
    );
  }
  return checks;
};
