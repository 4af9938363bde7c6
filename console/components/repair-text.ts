import type { ExportView } from './run-format.ts';

/**
 * What drift repair reads back: an export's lists, or in tag mode its segment tags. Membership
 * fields cannot be read back, so field mode has none (the API refuses repair there).
 */
export type RepairTarget = 'list' | 'tag';

export const repairTargetOf = (membership: ExportView['membership']): RepairTarget | undefined =>
  membership === 'field' ? undefined : membership;

interface RepairWords {
  /** The export page's button, and the name of its settings in words. */
  button: string;
  setting: string;
  /** Beside the button: what a repair does, in one sentence. */
  hint: string;
  /** Said of an export that repairs only when asked; tag mode verifies every run anyway. */
  whenAsked: string;
  everyRunHint: string;
  removeForeign: string;
  removeForeignHint: string;
  removesForeign: string;
}

export const REPAIR_WORDS: Record<RepairTarget, RepairWords> = {
  list: {
    button: 'Repair lists',
    setting: 'List repair',
    hint:
      "Repair lists reads each of the export's lists back from Autopilot before it runs, so contacts " +
      'removed by hand are added again.',
    whenAsked: 'Only when asked (Repair lists)',
    everyRunHint:
      'each run first reads its lists back, so contacts removed by hand in Autopilot are added again; ' +
      'about one request per 100 members',
    removeForeign: 'Remove members the product never sent',
    removeForeignHint: 'on a repair, and only from lists this product created or adopted',
    removesForeign: 'removes members the product never sent',
  },
  tag: {
    button: 'Repair tags',
    setting: 'Tag repair',
    hint:
      "Repair tags reads each of the export's tags back from Ortto before it runs, so people untagged by " +
      'hand are tagged again. Every run already counts its tags and reads back those whose count is off.',
    whenAsked:
      'Only when asked (Repair tags); every run counts its tags and reads back those whose count is off',
    everyRunHint:
      'each run reads every tag back instead of counting it, so it also notices an untagged member and a ' +
      'stranger tagged in the same interval, which leave the count unchanged; a request per 500 people read',
    removeForeign: 'Untag people the product never tagged',
    removeForeignHint: 'whenever a tag is read back: each segment tag is this export’s own',
    removesForeign: 'untags people the product never tagged',
  },
};

/** An export's repair settings, read-only, in its mode's words. */
export const repairSettingText = (target: RepairTarget, repair: ExportView['repair']): string => {
  const words = REPAIR_WORDS[target];
  if (!repair?.everyRun && !repair?.removeForeign) return words.whenAsked;
  const parts = [repair.everyRun ? 'On every run' : words.whenAsked];
  if (repair.removeForeign) parts.push(words.removesForeign);
  return parts.join('; ');
};
