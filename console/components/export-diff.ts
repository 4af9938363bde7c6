import type { ExportView } from './export-model.ts';

/** What a person calls each part of an export, in the order the edit form shows them. */
const LABELS: ReadonlyArray<[label: string, pick: (e: ExportView) => unknown]> = [
  ['Name', (e) => e.name],
  ['Connection', (e) => e.connectionId],
  ['Segments', (e) => [...e.segmentIds].sort()],
  ['Email attribute', (e) => e.dataMatching.email],
  ['Standard fields', (e) => sortedEntries(e.dataMatching.fields)],
  ['Custom fields', (e) => e.dataMatching.custom],
  ['Update-time attribute', (e) => e.dataMatching.updatedAt ?? null],
  ['Membership', (e) => e.membership],
  ['When a contact leaves a segment', (e) => e.onLeave],
  ['List titles', (e) => sortedEntries(e.listTitles)],
  ['Membership fields', (e) => sortedEntries(e.membershipFields)],
  ['Membership tags', (e) => sortedEntries(e.membershipTags)],
  ['Adopt existing lists', (e) => e.adoptExistingLists],
  ['Cap', (e) => e.cap],
  ['Over the cap', (e) => e.capPolicy],
  ['Repair', (e) => e.repair ?? null],
  ['Webhook URL', (e) => e.notifications?.webhookUrl ?? null],
  ['Schedule', (e) => e.scheduled],
];

const sortedEntries = (record: Record<string, string>): [string, string][] =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The settings someone else changed between what this editor loaded and what is stored now, by
 * the names the form uses. Segment order and map key order are not changes.
 */
export const changedSettings = (loaded: ExportView, current: ExportView): string[] =>
  LABELS.filter(([, pick]) => JSON.stringify(pick(loaded)) !== JSON.stringify(pick(current))).map(
    ([label]) => label,
  );
