import { describe, expect, it } from 'vitest';
import { emptyDrift } from '#lib/use-cases/planning/drift-corrections.ts';
import {
  driftLines,
  repairTarget,
  tagCheckLines,
  tagsAgreedText,
} from '../../console/components/drift-text.ts';
import type { Run } from '../../console/components/run-format.ts';
import { aRunView } from '../fixtures/console-views.ts';

type Drift = NonNullable<Run['drift']>;
type TagCheck = NonNullable<Drift['tags']>[number];

const check = (over: Partial<TagCheck> = {}): TagCheck => ({
  segmentId: 'newsletter',
  tag: 'Newsletter readers',
  counted: 44,
  expected: 44,
  uncertain: 0,
  foreign: 0,
  readBack: false,
  ...over,
});

const drift = (over: Partial<Drift> = {}): Drift => ({ ...emptyDrift(), ...over });

const run = aRunView;

describe('console drift: what a run found on its lists or tags, in words', () => {
  it('names every kind of list drift with its count, zeros included', () => {
    const lines = driftLines(drift({ lists: 2, read: 40, missing: 7, strangerOurs: 1, strangerForeign: 3 }));
    expect(lines).toHaveLength(6);
    expect(lines).toContainEqual(['Lists read', '2']);
    expect(lines).toContainEqual(['Missing from a list (joined again)', '7']);
    expect(lines.find(([label]) => label.startsWith('Of those, removed'))?.[1]).toBe('0');
  });

  it('speaks of tags, never lists, in tag mode, with the same counts', () => {
    const found = drift({
      lists: 1,
      read: 41,
      missing: 3,
      strangerOurs: 2,
      strangerForeign: 1,
      foreignRemoved: 1,
    });
    const lines = driftLines(found, 'tag');
    expect(lines.map(([, value]) => value)).toEqual(driftLines(found, 'list').map(([, value]) => value));
    expect(lines[0]).toEqual(['Tags read back', '1']);
    expect(lines).toContainEqual(['Missing their tag (tagged again)', '3']);
    for (const [label] of lines) expect(label).not.toMatch(/\blists?\b/i);
  });
});

describe('console drift: whether a run’s drift is about lists or tags', () => {
  it('follows the membership the run started with', () => {
    expect(repairTarget(run({ config: { membership: 'tag' } as Run['config'] }))).toBe('tag');
    expect(repairTarget(run({ config: { membership: 'list' } as Run['config'] }))).toBe('list');
  });

  it('takes a run recorded without its configuration as tag mode once it counted tags', () => {
    expect(repairTarget(run({ drift: drift({ tags: [check()] }) }))).toBe('tag');
    expect(repairTarget(run({ drift: drift() }))).toBe('list');
  });
});

describe('console drift: each tag’s count', () => {
  it('shows counted against expected, and whether the tag was read back', () => {
    const lines = tagCheckLines([
      check(),
      check({ segmentId: 'vip', tag: 'VIP', counted: 17, expected: 20, readBack: true }),
    ]);
    expect(lines).toEqual([
      ['Newsletter readers', 'counted 44, expected 44: as expected'],
      ['VIP', 'counted 17, expected 20: read back'],
    ]);
  });

  it('adds the uncertain and foreign people only when there are some', () => {
    const [line] = tagCheckLines([check({ counted: 1_205, expected: 1_200, uncertain: 4, foreign: 2 })]);
    expect(line?.[1]).toBe('counted 1,205, expected 1,200, 4 uncertain, 2 foreign: as expected');
    const [plain] = tagCheckLines([check({ uncertain: 0, foreign: 0 })]);
    expect(plain?.[1]).not.toMatch(/uncertain|foreign/);
  });

  it('says why a tag has no count: a repair reads every tag, or the count was refused', () => {
    const [repaired, refused] = tagCheckLines([
      check({ counted: null, readBack: true }),
      check({ tag: 'VIP', counted: null, readBack: false }),
    ]);
    expect(repaired?.[1]).toBe('not counted (a repair reads every tag), expected 44: read back');
    expect(refused?.[1]).toBe('could not be counted, expected 44: counted again by the next run');
  });
});

describe('console drift: a tag-mode run whose counts all agreed', () => {
  const tags = [check(), check({ tag: 'VIP' }), check({ tag: 'Trial' })];

  it('says so in one line instead of a repair panel', () => {
    expect(tagsAgreedText(run({ drift: drift({ tags }) }))).toBe('3 tags counted, all as expected.');
    expect(tagsAgreedText(run({ drift: drift({ tags: [check()] }) }))).toBe('1 tag counted, as expected.');
  });

  it('has no such line when a tag was read back, or on a repair run, or before counting', () => {
    const disagreed = [...tags, check({ tag: 'Lapsed', counted: 3, expected: 5, readBack: true })];
    expect(tagsAgreedText(run({ drift: drift({ lists: 1, tags: disagreed }) }))).toBeUndefined();
    const repaired = tags.map((t) => ({ ...t, counted: null, readBack: true }));
    expect(tagsAgreedText(run({ repair: true, drift: drift({ lists: 3, tags: repaired }) }))).toBeUndefined();
    expect(tagsAgreedText(run({ drift: drift() }))).toBeUndefined();
    expect(tagsAgreedText(run())).toBeUndefined();
  });

  it('says which tags could not be counted rather than calling them as expected', () => {
    const partly = [check(), check({ tag: 'VIP', counted: null })];
    expect(tagsAgreedText(run({ drift: drift({ tags: partly }) }))).toBe(
      '1 of 2 tags counted, all as expected; 1 could not be counted and the next run counts it again.',
    );
    const none = [check({ counted: null }), check({ tag: 'VIP', counted: null })];
    expect(tagsAgreedText(run({ drift: drift({ tags: none }) }))).toBe(
      'No tag could be counted; the next run counts them again.',
    );
  });
});
