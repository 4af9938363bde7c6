import type { AnyConnection, Schemas } from '../api/client.ts';

export type ExportView = Schemas['Export'];
export type MembershipMode = ExportView['membership'];
export type SavedExport = Schemas['SavedExport'];
export type ExportInput = Schemas['UpdateExportInput'];
export type CustomFieldType = ExportView['dataMatching']['custom'][number]['type'];

/**
 * Autopilot's writable standard contact fields, as the export schema allows them (lib/domain's
 * STANDARD_FIELDS; a unit test keeps the two equal, since the console may not import lib/).
 * The OpenAPI document types `fields` as a plain map, so the list cannot come from the schema.
 */
export const STANDARD_FIELDS = [
  'FirstName',
  'LastName',
  'Salutation',
  'Company',
  'NumberOfEmployees',
  'Title',
  'Industry',
  'Phone',
  'MobilePhone',
  'Fax',
  'Website',
  'MailingStreet',
  'MailingCity',
  'MailingState',
  'MailingPostalCode',
  'MailingCountry',
  'owner_name',
  'LeadSource',
  'Status',
  'LinkedIn',
  'Twitter',
] as const;
export type StandardField = (typeof STANDARD_FIELDS)[number];

export const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = [
  'string',
  'integer',
  'float',
  'boolean',
  'date',
];

/**
 * How each destination keeps membership (lib/ports' Destination.membershipModes; a unit test keeps
 * the two equal, since the console may not import lib/): Ortto's API cannot add people to an
 * audience, so it has tags only.
 */
export const MEMBERSHIP_MODES: Record<AnyConnection['type'], readonly MembershipMode[]> = {
  autopilot: ['list', 'field'],
  ortto: ['tag'],
};

const ALL_MODES: readonly MembershipMode[] = ['list', 'field', 'tag'];

/** The modes the editor offers: the chosen connection's, or every mode while none is chosen. */
export const modesFor = (connection: Pick<AnyConnection, 'type'> | undefined): readonly MembershipMode[] =>
  connection === undefined ? ALL_MODES : MEMBERSHIP_MODES[connection.type];

/** Choosing a connection keeps the mode when it has it, else picks its first. */
export const modeAfterChoosing = (
  current: MembershipMode,
  connection: Pick<AnyConnection, 'type'> | undefined,
): MembershipMode => {
  const modes = modesFor(connection);
  return modes.includes(current) ? current : (modes[0] ?? current);
};

/** First and last name are always offered; the other standard fields are added from a picker. */
export const NAME_FIELDS: readonly StandardField[] = ['FirstName', 'LastName'];

export interface ExportForm {
  name: string;
  /** '' until one is chosen. */
  connectionId: string;
  segmentIds: string[];
  email: string;
  /** Standard field → profile attribute; blank attributes are left out on save. */
  fields: Partial<Record<StandardField, string>>;
  custom: { name: string; type: CustomFieldType; source: string }[];
  updatedAt: string;
  membership: ExportView['membership'];
  /** Tag mode: segment id → its tag; blank keeps the API's default ("Segment <name>"). */
  membershipTags: Record<string, string>;
  onLeave: ExportView['onLeave'];
  capPolicy: ExportView['capPolicy'];
  guardrail: GuardrailForm;
  /** Drift repair (list and tag mode): read the lists or tags back on every run; remove members never sent. */
  repair: RepairForm;
  /** '' for none: a save without one removes the export's webhook. */
  webhookUrl: string;
}

export interface RepairForm {
  everyRun: boolean;
  removeForeign: boolean;
}

const repairOf = (r: ExportView['repair']): RepairForm => ({
  everyRun: r?.everyRun ?? false,
  removeForeign: r?.removeForeign ?? false,
});

/** The removal guardrail as the form edits it: the share as a percentage, numbers as typed. */
export interface GuardrailForm {
  enabled: boolean;
  percent: string;
  minContacts: string;
}

const guardrailOf = (g: ExportView['removalGuardrail']): GuardrailForm => ({
  enabled: g?.enabled ?? true,
  // Rounded so 0.07 shows as 7, not 7.000000000000001.
  percent: String(Math.round((g?.maxFraction ?? 0.1) * 100 * 1e6) / 1e6),
  minContacts: String(g?.minContacts ?? 100),
});

/** Blank or unreadable numbers go to the API as they are, so its answer names the field. */
const guardrailInput = (g: GuardrailForm) => ({
  enabled: g.enabled,
  maxFraction: Number(g.percent.trim() === '' ? Number.NaN : g.percent) / 100,
  minContacts: Number(g.minContacts.trim() === '' ? Number.NaN : g.minContacts),
});

/** The data-matching part of the form: which profile attribute fills which Autopilot field. */
export type DataMatchingForm = Pick<ExportForm, 'email' | 'fields' | 'custom' | 'updatedAt'>;

export const emptyForm = (): ExportForm => ({
  name: '',
  connectionId: '',
  segmentIds: [],
  email: 'email',
  fields: { FirstName: '', LastName: '' },
  custom: [],
  updatedAt: '',
  membership: 'list',
  membershipTags: {},
  onLeave: 'remove',
  capPolicy: 'fail',
  guardrail: guardrailOf(undefined),
  repair: repairOf(undefined),
  webhookUrl: '',
});

export const formOf = (e: ExportView): ExportForm => ({
  name: e.name,
  connectionId: e.connectionId ?? '',
  segmentIds: [...e.segmentIds],
  email: e.dataMatching.email,
  fields: { FirstName: '', LastName: '', ...e.dataMatching.fields },
  custom: e.dataMatching.custom.map((c) => ({ ...c })),
  updatedAt: e.dataMatching.updatedAt ?? '',
  membership: e.membership,
  membershipTags: { ...e.membershipTags },
  onLeave: e.onLeave,
  capPolicy: e.capPolicy,
  guardrail: guardrailOf(e.removalGuardrail),
  repair: repairOf(e.repair),
  webhookUrl: e.notifications?.webhookUrl ?? '',
});

const only = (overrides: Record<string, string>, ids: readonly string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(overrides).filter(([id]) => ids.includes(id)));

/**
 * The whole document PUT wants (and POST accepts): what the form edits, and everything else as it
 * was loaded. Overrides for segments no longer selected are dropped, since the API refuses them.
 */
export const inputOf = (form: ExportForm, loaded: ExportView | undefined): Omit<ExportInput, 'version'> => {
  const fields = Object.fromEntries(
    Object.entries(form.fields).filter(([, source]) => source !== undefined && source.trim() !== ''),
  );
  const updatedAt = form.updatedAt.trim();
  const webhookUrl = form.webhookUrl.trim();
  return {
    name: form.name,
    connectionId: form.connectionId === '' ? null : form.connectionId,
    segmentIds: form.segmentIds,
    dataMatching: {
      email: form.email,
      fields,
      custom: form.custom,
      ...(updatedAt === '' ? {} : { updatedAt }),
    },
    membership: form.membership,
    onLeave: form.onLeave,
    capPolicy: form.capPolicy,
    removalGuardrail: guardrailInput(form.guardrail),
    // The API refuses repair options in field mode, where the form hides them: left out, they are off.
    ...(form.membership === 'field' ? {} : { repair: { ...form.repair } }),
    listTitles: only(loaded?.listTitles ?? {}, form.segmentIds),
    membershipFields: only(loaded?.membershipFields ?? {}, form.segmentIds),
    // Blank tags are left out, so the API's default applies.
    membershipTags: only(
      Object.fromEntries(Object.entries(form.membershipTags).filter(([, tag]) => tag.trim() !== '')),
      form.segmentIds,
    ),
    adoptExistingLists: loaded?.adoptExistingLists ?? false,
    cap: loaded?.cap ?? 100_000,
    // A new export runs with every refresh, as the API's default says; the export page switches it.
    scheduled: loaded?.scheduled ?? true,
    // Left out, the API removes the webhook: so an edit must always carry the one it loaded.
    ...(webhookUrl === '' ? {} : { notifications: { webhookUrl } }),
  };
};
