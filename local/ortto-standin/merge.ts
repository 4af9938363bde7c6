/**
 * POST /v1/person/merge (docs/ortto-standin.md#merge): find each person by merge_by, create or merge
 * by strategy, set and unset tags, and answer one entry per person in input order.
 */
import type { Account, Person } from './account.ts';
import { PERMISSION_FIELDS } from './fields.ts';
import { type ApiResponse, type ErrorDetail, orttoError } from './http-io.ts';
import { type MergeRequest, type PersonInput, parseMergeRequest, parsePerson } from './merge-input.ts';
import type { StandInBehaviour } from './types.ts';

type Entry =
  | { status: 'created' | 'merged'; person_id: string }
  | { status: 'ignored' }
  | { status: 'invalid' | 'suppressed'; error: string };

const failed = (e: Entry): e is Entry & ErrorDetail => e.status === 'invalid' || e.status === 'suppressed';

const isEmpty = (v: unknown): boolean => v === undefined || v === null || v === '';

export function handleMerge(
  account: Account,
  behaviour: StandInBehaviour,
  body: unknown,
  now: string,
): ApiResponse {
  const parsed = parseMergeRequest(body, account);
  if (!parsed.ok) return orttoError(400, parsed.error);
  const request = parsed.value;
  const inputs = request.people.map((raw) => parsePerson(raw, request, account));
  const invalid = inputs.flatMap((input) => (input.ok ? [] : [{ status: 'invalid', error: input.error }]));
  if (invalid.length > 0 && behaviour.mixedBatch === 'reject') {
    const details = inputs.map((i) =>
      i.ok ? { status: 'valid', error: '' } : { status: 'invalid', error: i.error },
    );
    return orttoError(400, `Invalid contacts provided (${invalid[0]?.error})`, details);
  }
  const entries: Entry[] = inputs.map((input, i) => {
    const sent = sentPermissions(request.people[i]);
    if (!input.ok) {
      for (const [field, value] of sent) account.permissionWrites.push({ field, value });
      return { status: 'invalid', error: input.error };
    }
    const outcome = mergeOne(account, behaviour, request, input.value, now);
    for (const [field, value] of sent) {
      const { person, before } = outcome;
      account.permissionWrites.push({
        field,
        value,
        ...(person === undefined ? {} : { personId: person.id, after: person.fields.get(field) }),
        ...(before === undefined ? {} : { before: before.get(field) }),
      });
    }
    return outcome.entry;
  });
  const failures = entries.filter(failed);
  if (failures.length === entries.length) {
    const details = failures.map(({ status, error }) => ({ status, error }));
    return orttoError(400, `No valid contacts provided (${details[0]?.error})`, details);
  }
  const people = entries.filter(
    (e) =>
      !(behaviour.mixedBatch === 'omit' && failed(e)) &&
      !(behaviour.skippedAnswer === 'omit' && e.status === 'ignored'),
  );
  return { status: 200, body: { people } };
}

/** The person the merge keys name, by find_strategy; `null` when the keys name different people. */
function findPerson(
  account: Account,
  request: MergeRequest,
  fields: Record<string, unknown>,
): Person | null | undefined {
  const keyed = request.mergeBy.map((id) => ({ id, value: fields[id] }));
  const present = keyed.filter(
    (k): k is { id: string; value: string } => typeof k.value === 'string' && k.value !== '',
  );
  if (request.findStrategy === 1) {
    const first = present[0];
    return first === undefined ? undefined : account.find(first.id, first.value);
  }
  if (request.findStrategy === 2) {
    if (present.length !== keyed.length) return undefined;
    const found = present.map((k) => account.find(k.id, k.value));
    const first = found[0];
    if (first === undefined || found.some((p) => p !== first))
      return found.some((p) => p !== undefined) ? null : undefined;
    return first;
  }
  for (const k of present) {
    const person = account.find(k.id, k.value);
    if (person !== undefined) return person;
  }
  return undefined;
}

interface Outcome {
  entry: Entry;
  /** The person written, if any. */
  person?: Person;
  /** An existing person's permissions before the merge. */
  before?: ReadonlyMap<string, unknown>;
}

function mergeOne(
  account: Account,
  behaviour: StandInBehaviour,
  request: MergeRequest,
  input: PersonInput,
  now: string,
): Outcome {
  const found = findPerson(account, request, input.fields);
  if (found === null)
    return { entry: { status: 'invalid', error: 'The merge_by fields match different people' } };
  if (found === undefined) return createOne(account, request, input, now);
  const before = new Map(PERMISSION_FIELDS.map((f) => [f, found.fields.get(f)]));
  return { entry: updateOne(account, behaviour, request, input, found, now), person: found, before };
}

function createOne(account: Account, request: MergeRequest, input: PersonInput, now: string): Outcome {
  const refused = refuseCreation(account, request, input);
  if (refused !== undefined) return { entry: refused };
  const person = account.create();
  // New people are subscribed to email and not to SMS unless the merge says otherwise.
  account.setField(person, 'bol::p', true);
  account.setField(person, 'bol::sp', false);
  for (const [id, value] of Object.entries(input.fields)) {
    if (id !== 'str::person_id' && value !== null) account.setField(person, id, value);
  }
  applyTags(account, person, input, now);
  return { entry: { status: 'created', person_id: person.id }, person };
}

/** Why no person is created for an entry that matched nobody, if it is not. */
function refuseCreation(account: Account, request: MergeRequest, input: PersonInput): Entry | undefined {
  const { fields } = input;
  const email = typeof fields['str::email'] === 'string' ? fields['str::email'] : undefined;
  if (email !== undefined && account.emailOwner(email) !== undefined)
    return { status: 'invalid', error: 'Email belongs to another person' };
  if (request.skipNonExisting) return { status: 'ignored' };
  if (request.mergeBy[0] === 'str::person_id') return { status: 'invalid', error: 'Person not found' };
  if (isEmpty(fields['str::email']) && isEmpty(fields['str::ei']))
    return { status: 'invalid', error: 'Email or external id (str::ei) is required' };
  // Suppression only stops *creating* a person; an existing suppressed one is merged as usual.
  if (request.suppression && email !== undefined && account.isSuppressed(email))
    return { status: 'suppressed', error: 'Email is suppressed' };
  return undefined;
}

function updateOne(
  account: Account,
  behaviour: StandInBehaviour,
  request: MergeRequest,
  input: PersonInput,
  person: Person,
  now: string,
): Entry {
  const email = input.fields['str::email'];
  if (typeof email === 'string' && account.emailOwner(email, person) !== undefined)
    return { status: 'invalid', error: 'Email belongs to another person' };
  const fields = Object.entries(input.fields).filter(([id]) => id !== 'str::person_id');
  if (request.strategy === 2) {
    for (const [id, value] of fields) account.setField(person, id, value);
    for (const id of input.clearFields) account.setField(person, id, null);
  } else if (request.strategy === 1) {
    for (const [id, value] of fields) {
      if (value !== null && isEmpty(person.fields.get(id))) account.setField(person, id, value);
    }
  }
  const tagMode =
    request.strategy === 1
      ? behaviour.strategy1Tags
      : request.strategy === 3
        ? behaviour.strategy3Tags
        : 'apply';
  if (tagMode === 'apply') applyTags(account, person, input, now);
  return { status: 'merged', person_id: person.id };
}

function applyTags(account: Account, person: Person, input: PersonInput, now: string): void {
  for (const tag of input.tags) account.addTag(person, tag, now);
  for (const tag of input.unsetTags) account.removeTag(person, tag, now);
}

/** The consent fields an entry carries, valid or not: recorded so a test can prove an exporter never sends them. */
function sentPermissions(raw: unknown): Array<[(typeof PERMISSION_FIELDS)[number], unknown]> {
  const fields = (raw as { fields?: unknown } | null)?.fields;
  if (typeof fields !== 'object' || fields === null) return [];
  const values = fields as Record<string, unknown>;
  return PERMISSION_FIELDS.filter((f) => f in values).map((f) => [f, values[f]]);
}
