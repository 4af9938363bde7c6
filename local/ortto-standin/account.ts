/** One Ortto account's data: people with fields and tags, tags, custom fields, suppressions, audiences. */
import { randomBytes } from 'node:crypto';
import type { PermissionWrite, Region, StandInCustomField, StandInPerson, StandInTag } from './types.ts';

/** Ortto ids (people, tags, cursors, audiences) are 24 hex digits. */
export const newId = (): string => randomBytes(12).toString('hex');
export const ID_PATTERN = /^[0-9a-f]{24}$/;

export interface Person {
  id: string;
  /** Stored fields; an absent key is an empty field. */
  fields: Map<string, unknown>;
  tags: Set<string>;
}

export interface Tag {
  id: string;
  name: string;
  createdAt: string;
  lastUsed: string;
}

export interface CustomField extends StandInCustomField {
  displayType: string;
  trackChanges: boolean;
}

export interface Audience {
  id: string;
  name: string;
  tag: string;
  createdAt: string;
}

const lower = (email: string): string => email.toLowerCase();

export class Account {
  readonly people = new Map<string, Person>();
  readonly tags = new Map<string, Tag>();
  readonly fields = new Map<string, CustomField>();
  readonly suppressed = new Set<string>();
  readonly audiences = new Map<string, Audience>();
  /** person/get cursors: the matching ids as of the first page. */
  readonly cursors = new Map<string, string[]>();
  readonly permissionWrites: PermissionWrite[] = [];
  private readonly byEmail = new Map<string, string>();

  constructor(
    readonly label: string,
    readonly region: Region,
    readonly defaultMergeBy: readonly string[],
  ) {}

  /** Finds a person by an identifying field; emails match case-insensitively. */
  find(fieldId: string, value: string): Person | undefined {
    if (fieldId === 'str::person_id') return this.people.get(value);
    if (fieldId === 'str::email') {
      const id = this.byEmail.get(lower(value));
      return id === undefined ? undefined : this.people.get(id);
    }
    for (const person of this.people.values()) if (person.fields.get(fieldId) === value) return person;
    return undefined;
  }

  /** The person that already holds this email, if another one than `self`. */
  emailOwner(email: string, self?: Person): Person | undefined {
    const owner = this.find('str::email', email);
    return owner === self ? undefined : owner;
  }

  create(): Person {
    const person: Person = { id: newId(), fields: new Map(), tags: new Set() };
    this.people.set(person.id, person);
    return person;
  }

  /** Deletes a person (as someone can in Ortto's web app): gone from every tag and the email index. */
  remove(person: Person): void {
    const email = person.fields.get('str::email');
    if (typeof email === 'string') this.byEmail.delete(lower(email));
    this.people.delete(person.id);
  }

  /** Sets (or, with null, clears) a field, keeping the email index right. */
  setField(person: Person, fieldId: string, value: unknown): void {
    if (fieldId === 'str::email') {
      const old = person.fields.get('str::email');
      if (typeof old === 'string') this.byEmail.delete(lower(old));
      if (typeof value === 'string') this.byEmail.set(lower(value), person.id);
    }
    if (value === null) person.fields.delete(fieldId);
    else person.fields.set(fieldId, value);
  }

  /** Missing tags are created on first use. */
  addTag(person: Person, name: string, now: string): void {
    const tag = this.tags.get(name) ?? { id: newId(), name, createdAt: now, lastUsed: now };
    tag.lastUsed = now;
    this.tags.set(name, tag);
    person.tags.add(name);
  }

  /** Unsetting a tag the person lacks changes nothing and creates no tag. */
  removeTag(person: Person, name: string, now: string): void {
    const tag = this.tags.get(name);
    if (tag !== undefined && person.tags.delete(name)) tag.lastUsed = now;
  }

  tagMembers(name: string): Person[] {
    return [...this.people.values()].filter((p) => p.tags.has(name));
  }

  tagById(id: string): Tag | undefined {
    for (const tag of this.tags.values()) if (tag.id === id) return tag;
    return undefined;
  }

  isSuppressed(email: string): boolean {
    return this.suppressed.has(lower(email));
  }
}

export const toPersonSnapshot = (person: Person): StandInPerson => ({
  id: person.id,
  fields: Object.fromEntries(person.fields),
  tags: [...person.tags].sort(),
});

export const toTagSnapshot = (account: Account, tag: Tag): StandInTag => ({
  id: tag.id,
  name: tag.name,
  count: account.tagMembers(tag.name).length,
});

export const toFieldSnapshot = (field: CustomField): StandInCustomField => ({
  id: field.id,
  name: field.name,
  type: field.type,
  ...(field.values === undefined ? {} : { values: [...field.values] }),
});
