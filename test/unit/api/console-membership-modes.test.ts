import { describe, expect, it } from 'vitest';
import { AutopilotDestination } from '#lib/adapters/autopilot/destination.ts';
import { OrttoDestination } from '#lib/adapters/ortto/destination.ts';
import { ORTTO_REGIONS } from '#lib/domain/connection.ts';
import {
  formOf,
  inputOf,
  MEMBERSHIP_MODES,
  modeAfterChoosing,
  modesFor,
} from '../../../console/components/export-model.ts';
import { anExportView } from '../../fixtures/console-views.ts';

describe('the export editor offers the modes the API accepts on each connection', () => {
  it('the console’s modes per destination are the adapters’ own (the console may not import lib/)', () => {
    expect(MEMBERSHIP_MODES.autopilot).toEqual([...new AutopilotDestination().membershipModes]);
    for (const region of ORTTO_REGIONS) {
      expect(MEMBERSHIP_MODES.ortto).toEqual([...new OrttoDestination({ region }).membershipModes]);
    }
  });

  it('choosing an Ortto connection switches a list-mode form to tags; Autopilot keeps list or field', () => {
    expect(modeAfterChoosing('list', { type: 'ortto' })).toBe('tag');
    expect(modeAfterChoosing('field', { type: 'autopilot' })).toBe('field');
    expect(modeAfterChoosing('tag', { type: 'autopilot' })).toBe('list');
    expect(modeAfterChoosing('tag', undefined)).toBe('tag');
    expect(modesFor(undefined)).toEqual(['list', 'field', 'tag']);
  });

  it('a save carries the tags typed for selected segments; blank ones keep the default', () => {
    const loaded = anExportView({ segmentIds: ['seg-a', 'seg-b'], membership: 'tag' });
    const form = {
      ...formOf(loaded),
      membershipTags: { 'seg-a': 'Newsletter readers', 'seg-b': '  ', 'seg-gone': 'Old' },
    };
    expect(inputOf(form, loaded).membershipTags).toEqual({ 'seg-a': 'Newsletter readers' });
  });
});
