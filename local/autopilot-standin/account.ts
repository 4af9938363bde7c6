import { randomUUID } from 'node:crypto';
import type { ContactWrite, CustomFieldType, FieldValue } from './contact-input.ts';
import type { StandInContact, StandInList } from './types.ts';

/** Page size of GET /contacts and GET /list/{id}/contacts (docs/autopilot-api.md#limits). */
export const PAGE_SIZE = 100;

export const newContactId = (): string => `person_${randomUUID().toUpperCase()}`;
export const newListId = (): string => `contactlist_${randomUUID().toUpperCase()}`;

interface ContactRecord {
  id: string;
  /** Email as stored (last casing sent). */
  email?: string;
  fields: Record<string, FieldValue>;
  custom: Map<string, { fieldType: CustomFieldType; value: FieldValue }>;
  lists: Set<string>;
  unsubscribed: boolean;
  createdAt: number;
  updatedAt: number;
}

interface ListRecord {
  id: string;
  title: string;
  members: Set<string>;
  /** Members sorted by contact id; built lazily on the first page read, then kept up to date. */
  sorted?: string[];
}

export type UpsertResult =
  | { ok: true; contactId: string }
  | { ok: false; reason: 'invalid' | 'list-not-found'; message: string };

export interface ContactPage {
  contacts: ContactRecord[];
  total: number;
  bookmark?: string;
}

export type { ContactRecord, ListRecord };

const lower = (email: string): string => email.toLowerCase();

/**
 * One Autopilot account: contacts indexed by id and by lower-cased email, lists, and the custom
 * field registry. Emails are unique per account (case-insensitively): an upsert with a known
 * Email updates that contact, and `_NewEmail` may not take another contact's address.
 */
export class Account {
  private readonly contactsById = new Map<string, ContactRecord>();
  private readonly idByEmail = new Map<string, string>();
  /**
   * All contact ids sorted, built lazily on the first page read and then maintained by binary
   * insertion/removal, so writes between page reads never force a re-sort of a 100k account.
   */
  private sortedIds: string[] | undefined;
  private readonly listsById = new Map<string, ListRecord>();
  private readonly customFieldTypes = new Map<string, CustomFieldType>();

  constructor(readonly label: string) {}

  get contactCount(): number {
    return this.contactsById.size;
  }

  /** Validates everything first, then writes: a rejected contact leaves no trace. */
  upsert(write: ContactWrite, honourList: boolean, now: number = Date.now()): UpsertResult {
    const seenTypes = new Map<string, CustomFieldType>();
    for (const { name, fieldType } of write.custom) {
      const known = this.customFieldTypes.get(name) ?? seenTypes.get(name);
      if (known !== undefined && known !== fieldType) {
        return { ok: false, reason: 'invalid', message: `Custom field "${name}" is of type ${known}.` };
      }
      seenTypes.set(name, fieldType);
    }
    const list = honourList && write.listId !== undefined ? this.listsById.get(write.listId) : undefined;
    if (honourList && write.listId !== undefined && list === undefined) {
      return { ok: false, reason: 'list-not-found', message: 'List does not exist.' };
    }
    const existingId = write.email === undefined ? undefined : this.idByEmail.get(lower(write.email));
    if (write.newEmail !== undefined) {
      const holder = this.idByEmail.get(lower(write.newEmail));
      if (holder !== undefined && holder !== existingId) {
        return {
          ok: false,
          reason: 'invalid',
          message: 'Another contact already has the _NewEmail address.',
        };
      }
    }

    let contact = existingId === undefined ? undefined : this.contactsById.get(existingId);
    if (contact === undefined) {
      contact = {
        id: newContactId(),
        fields: {},
        custom: new Map(),
        lists: new Set(),
        unsubscribed: false,
        createdAt: now,
        updatedAt: now,
      };
      this.contactsById.set(contact.id, contact);
      if (this.sortedIds !== undefined) insertSorted(this.sortedIds, contact.id);
    }

    for (const [key, value] of Object.entries(write.fields)) {
      if (value === null) delete contact.fields[key];
      else contact.fields[key] = value;
    }
    const email = write.newEmail ?? write.email;
    if (email !== undefined) {
      if (contact.email !== undefined) this.idByEmail.delete(lower(contact.email));
      contact.email = email;
      contact.fields.Email = email;
      this.idByEmail.set(lower(email), contact.id);
    }
    if (write.unsubscribed !== undefined) contact.unsubscribed = write.unsubscribed;
    for (const { name, fieldType, value } of write.custom) {
      this.customFieldTypes.set(name, fieldType);
      if (value === null) contact.custom.delete(name);
      else contact.custom.set(name, { fieldType, value });
    }
    if (list !== undefined) this.addMember(list, contact);
    contact.updatedAt = Math.max(now, contact.createdAt);
    return { ok: true, contactId: contact.id };
  }

  /** By contact id, or by email (case-insensitive). */
  findContact(idOrEmail: string): ContactRecord | undefined {
    const byId = this.contactsById.get(idOrEmail);
    if (byId !== undefined) return byId;
    const id = this.idByEmail.get(lower(idOrEmail));
    return id === undefined ? undefined : this.contactsById.get(id);
  }

  deleteContact(contact: ContactRecord): void {
    this.contactsById.delete(contact.id);
    if (contact.email !== undefined) this.idByEmail.delete(lower(contact.email));
    for (const listId of contact.lists) {
      const list = this.listsById.get(listId);
      if (list === undefined) continue;
      list.members.delete(contact.id);
      if (list.sorted !== undefined) removeSorted(list.sorted, contact.id);
    }
    if (this.sortedIds !== undefined) removeSorted(this.sortedIds, contact.id);
  }

  unsubscribe(contact: ContactRecord, now: number = Date.now()): void {
    contact.unsubscribed = true;
    contact.updatedAt = Math.max(now, contact.createdAt);
  }

  createList(title: string): ListRecord {
    const list: ListRecord = { id: newListId(), title, members: new Set() };
    this.listsById.set(list.id, list);
    return list;
  }

  hasListTitled(title: string): boolean {
    for (const list of this.listsById.values()) if (list.title === title) return true;
    return false;
  }

  getList(listId: string): ListRecord | undefined {
    return this.listsById.get(listId);
  }

  /** By id, else the first list (in creation order) with that title. */
  findList(listIdOrTitle: string): ListRecord | undefined {
    const byId = this.listsById.get(listIdOrTitle);
    if (byId !== undefined) return byId;
    for (const list of this.listsById.values()) if (list.title === listIdOrTitle) return list;
    return undefined;
  }

  allLists(): ListRecord[] {
    return [...this.listsById.values()];
  }

  /** Returns false when the contact already was a member. */
  addMember(list: ListRecord, contact: ContactRecord): boolean {
    if (list.members.has(contact.id)) return false;
    list.members.add(contact.id);
    if (list.sorted !== undefined) insertSorted(list.sorted, contact.id);
    contact.lists.add(list.id);
    return true;
  }

  /** Returns false when the contact was not a member. */
  removeMember(list: ListRecord, contact: ContactRecord): boolean {
    if (!list.members.delete(contact.id)) return false;
    if (list.sorted !== undefined) removeSorted(list.sorted, contact.id);
    contact.lists.delete(list.id);
    return true;
  }

  /** A page of the whole account, or of one list, in contact-id order, strictly after `bookmark`. */
  page(list: ListRecord | undefined, bookmark: string | undefined): ContactPage {
    const ids = list === undefined ? this.allSortedIds() : this.sortedMembers(list);
    const start = bookmark === undefined ? 0 : upperBound(ids, bookmark);
    const pageIds = ids.slice(start, start + PAGE_SIZE);
    const contacts: ContactRecord[] = [];
    for (const id of pageIds) {
      const contact = this.contactsById.get(id);
      if (contact !== undefined) contacts.push(contact);
    }
    const last = pageIds.at(-1);
    const more = start + PAGE_SIZE < ids.length;
    return more && last !== undefined
      ? { contacts, total: ids.length, bookmark: last }
      : { contacts, total: ids.length };
  }

  customFields(): Array<{ name: string; fieldType: string }> {
    return [...this.customFieldTypes].map(([name, fieldType]) => ({ name, fieldType }));
  }

  allContacts(): ContactRecord[] {
    return [...this.contactsById.values()];
  }

  private allSortedIds(): string[] {
    this.sortedIds ??= [...this.contactsById.keys()].sort();
    return this.sortedIds;
  }

  private sortedMembers(list: ListRecord): string[] {
    list.sorted ??= [...list.members].sort();
    return list.sorted;
  }
}

function insertSorted(sorted: string[], id: string): void {
  sorted.splice(lowerBound(sorted, id), 0, id);
}

function removeSorted(sorted: string[], id: string): void {
  const at = lowerBound(sorted, id);
  if (sorted[at] === id) sorted.splice(at, 1);
}

/** First index whose id sorts at or after `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose id sorts strictly after `key`. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The contact as GET endpoints return it (docs/autopilot-api.md#contact-fields): unset fields are absent. */
export function toReadShape(contact: ContactRecord): Record<string, unknown> {
  const { FirstName, LastName } = contact.fields;
  const name = [FirstName, LastName].filter((part) => part !== undefined && part !== '').join(' ');
  return {
    contact_id: contact.id,
    ...contact.fields,
    ...(name === '' ? {} : { Name: name }),
    lists: [...contact.lists],
    created_at: new Date(contact.createdAt).toISOString(),
    updated_at: new Date(contact.updatedAt).toISOString(),
    unsubscribed: contact.unsubscribed,
    custom_fields: [...contact.custom].map(([kind, { fieldType, value }]) => ({
      kind,
      value,
      fieldType,
      deleted: false,
    })),
  };
}

/** A detached copy for test assertions. */
export function toSnapshot(contact: ContactRecord): StandInContact {
  return {
    contactId: contact.id,
    ...(contact.email === undefined ? {} : { email: contact.email }),
    fields: { ...contact.fields },
    custom: Object.fromEntries([...contact.custom].map(([name, entry]) => [name, { ...entry }])),
    lists: [...contact.lists],
    unsubscribed: contact.unsubscribed,
    createdAt: new Date(contact.createdAt).toISOString(),
    updatedAt: new Date(contact.updatedAt).toISOString(),
  };
}

export function toListSnapshot(list: ListRecord): StandInList {
  return { listId: list.id, title: list.title, memberIds: [...list.members] };
}
