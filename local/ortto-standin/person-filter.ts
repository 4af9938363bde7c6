/**
 * The subset of person/get's filter language the stand-in evaluates: $and, $or, $str::is,
 * $has_any_value, and (behind the tagFilter switch, since Ortto documents no tag filter) $id_set_is on
 * u4s::t. Any other operator is refused by name rather than ignored, so a filter never silently matches all.
 */
import type { Account, Person } from './account.ts';

export type Predicate = (person: Person) => boolean;
export type FilterResult = { ok: true; test: Predicate } | { ok: false; error: string };

const MAX_DEPTH = 8;
const MAX_OPERANDS = 100;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const value = (person: Person, fieldId: string): unknown =>
  fieldId === 'str::person_id' ? person.id : person.fields.get(fieldId);

export function compileFilter(
  filter: unknown,
  account: Account,
  tagFilter: boolean,
  depth = 0,
): FilterResult {
  if (depth > MAX_DEPTH) return { ok: false, error: `filter: nested deeper than ${MAX_DEPTH}` };
  if (!isObject(filter) || Object.keys(filter).length !== 1)
    return { ok: false, error: 'filter: expected an object with exactly one operator' };
  const [op, arg] = Object.entries(filter)[0] ?? ['', undefined];
  if (op === '$and' || op === '$or') {
    if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_OPERANDS)
      return { ok: false, error: `filter: ${op} expects 1 to ${MAX_OPERANDS} filters` };
    const parts: Predicate[] = [];
    for (const sub of arg) {
      const compiled = compileFilter(sub, account, tagFilter, depth + 1);
      if (!compiled.ok) return compiled;
      parts.push(compiled.test);
    }
    return {
      ok: true,
      test: op === '$and' ? (p) => parts.every((t) => t(p)) : (p) => parts.some((t) => t(p)),
    };
  }
  if (!isObject(arg) || typeof arg.field_id !== 'string')
    return { ok: false, error: `filter: ${op.slice(0, 40)} expects {"field_id": ...}` };
  const fieldId = arg.field_id;
  if (op === '$str::is') {
    if (typeof arg.value !== 'string') return { ok: false, error: 'filter: $str::is expects a string value' };
    const wanted = fieldId === 'str::email' ? arg.value.toLowerCase() : arg.value;
    return {
      ok: true,
      test: (p) => {
        const v = value(p, fieldId);
        return typeof v === 'string' && (fieldId === 'str::email' ? v.toLowerCase() : v) === wanted;
      },
    };
  }
  if (op === '$has_any_value') {
    return { ok: true, test: (p) => ![undefined, null, ''].includes(value(p, fieldId) as never) };
  }
  if (op === '$id_set_is' && fieldId === 'u4s::t') {
    if (!tagFilter) return { ok: false, error: 'filter: tag filters are not supported' };
    const ids = Array.isArray(arg.value) ? arg.value : [arg.value];
    if (ids.length === 0 || ids.length > MAX_OPERANDS || !ids.every((i) => typeof i === 'string'))
      return { ok: false, error: 'filter: $id_set_is on u4s::t expects tag ids' };
    const names = ids.map((id) => account.tagById(id as string)?.name);
    return { ok: true, test: (p) => names.some((n) => n !== undefined && p.tags.has(n)) };
  }
  return { ok: false, error: `filter: operator ${op.slice(0, 40)} is not supported by the stand-in` };
}
