import { STATUS_CODES } from 'node:http';
import * as z from 'zod';
import { type Account, toReadShape } from './account.ts';
import { type ContactWrite, parseContactWrite } from './contact-input.ts';
import type { RouteName } from './routes.ts';
import type { StandInBehaviour } from './types.ts';

/** Maximum contacts per POST /contacts (docs/autopilot-api.md#limits). */
export const BULK_LIMIT = 100;

export interface ApiResponse {
  status: number;
  /** Serialised as JSON; `undefined` sends an empty body. */
  body?: unknown;
}

export interface RouteContext {
  account: Account;
  behaviour: StandInBehaviour;
  params: string[];
  /** Parsed JSON body, only for routes in ROUTES_WITH_BODY. */
  body: unknown;
  /** Contacts refused for good (fault injection's `rejectContacts`); called once per contact written. */
  rejects?: (write: ContactWrite) => boolean;
}

export const ROUTES_WITH_BODY: ReadonlySet<RouteName> = new Set([
  'upsertContact',
  'bulkUpsert',
  'createList',
]);

export function apiError(status: number, message: string): ApiResponse {
  return { status, body: { error: STATUS_CODES[status] ?? 'Error', message } };
}

const CONTACT_NOT_FOUND = 'Contact could not be found.';
/** Never names the contact: the client's messages and logs must not carry raw emails. */
const CONTACT_REJECTED = 'Contact was rejected (stand-in fault injection).';
const LIST_NOT_FOUND = 'List does not exist.';

const UpsertBodySchema = z.object({ contact: z.unknown().refine((v) => v !== undefined) });
const BulkBodySchema = z.object({ contacts: z.array(z.unknown()) });
const CreateListBodySchema = z.object({ name: z.string().trim().min(1) });

type Handler = (ctx: RouteContext) => ApiResponse;

const handlers: Record<RouteName, Handler> = {
  upsertContact({ account, body, rejects }) {
    const parsed = UpsertBodySchema.safeParse(body);
    if (!parsed.success) return apiError(400, 'Request body must be an object with a "contact" object.');
    const input = parseContactWrite(parsed.data.contact);
    if (!input.ok) return apiError(400, input.message);
    if (rejects?.(input.write)) return apiError(400, CONTACT_REJECTED);
    const result = account.upsert(input.write, true);
    if (!result.ok) return apiError(result.reason === 'list-not-found' ? 404 : 400, result.message);
    return { status: 200, body: { contact_id: result.contactId } };
  },

  /**
   * Invalid items are left out of both `contact_ids` and `email_contact_map` (there is no
   * per-contact error array). Map keys are the `Email` values exactly as sent, so a client can
   * look up its own input; items without Email appear only in `contact_ids`. A contact refused by
   * fault injection (`rejectContacts`) is left out like an invalid one. With
   * bulkListMembership 'honour', an item naming an unknown list is treated as invalid.
   */
  bulkUpsert({ account, behaviour, body, rejects }) {
    const parsed = BulkBodySchema.safeParse(body);
    if (!parsed.success) return apiError(400, 'Request body must be an object with a "contacts" array.');
    const items = parsed.data.contacts;
    if (items.length === 0) return apiError(400, 'At least one contact must be provided.');
    if (items.length > BULK_LIMIT) {
      return apiError(400, `A maximum of ${BULK_LIMIT} contacts can be sent per request.`);
    }
    const contactIds: string[] = [];
    const emailContactMap: Record<string, string> = {};
    const honourList = behaviour.bulkListMembership === 'honour';
    for (const item of items) {
      const input = parseContactWrite(item);
      if (!input.ok || rejects?.(input.write)) continue;
      const result = account.upsert(input.write, honourList);
      if (!result.ok) continue;
      contactIds.push(result.contactId);
      if (input.write.email !== undefined) emailContactMap[input.write.email] = result.contactId;
    }
    return { status: 200, body: { contact_ids: contactIds, email_contact_map: emailContactMap } };
  },

  getContact({ account, params }) {
    const contact = account.findContact(params[0] ?? '');
    return contact === undefined
      ? apiError(404, CONTACT_NOT_FOUND)
      : { status: 200, body: toReadShape(contact) };
  },

  /** Emails are unique per account here, so "every contact with that email" is at most one. */
  deleteContact({ account, behaviour, params }) {
    const contact = account.findContact(params[0] ?? '');
    if (contact === undefined)
      return apiError(404, 'Could not delete contact as contact could not be found.');
    account.deleteContact(contact);
    return behaviour.deleteContactStatus === 204 ? { status: 204 } : { status: 200, body: {} };
  },

  unsubscribe({ account, params }) {
    const contact = account.findContact(params[0] ?? '');
    if (contact === undefined) return apiError(404, CONTACT_NOT_FOUND);
    account.unsubscribe(contact);
    return { status: 200, body: {} };
  },

  listContacts({ account, params }) {
    return pageResponse(account.page(undefined, params[0]));
  },

  customFields({ account }) {
    return { status: 200, body: account.customFields() };
  },

  getLists({ account }) {
    return {
      status: 200,
      body: { lists: account.allLists().map((list) => ({ list_id: list.id, title: list.title })) },
    };
  },

  createList({ account, behaviour, body }) {
    const parsed = CreateListBodySchema.safeParse(body);
    if (!parsed.success) return apiError(400, 'A list "name" must be provided.');
    const { name } = parsed.data;
    if (behaviour.duplicateListNames === 'conflict' && account.hasListTitled(name)) {
      return apiError(409, 'A list with this name already exists.');
    }
    return { status: 200, body: { list_id: account.createList(name).id } };
  },

  listMembers({ account, params }) {
    const list = account.getList(params[0] ?? '');
    if (list === undefined) return apiError(404, LIST_NOT_FOUND);
    return pageResponse(account.page(list, params[1]));
  },

  getMembership(ctx) {
    return withMembership(ctx, (list, contact) =>
      list.members.has(contact.id) ? { status: 200, body: {} } : { status: 404 },
    );
  },

  addMembership(ctx) {
    return withMembership(ctx, (list, contact) =>
      membershipChange(ctx.account.addMember(list, contact), ctx.behaviour),
    );
  },

  removeMembership(ctx) {
    return withMembership(ctx, (list, contact) =>
      membershipChange(ctx.account.removeMember(list, contact), ctx.behaviour),
    );
  },

  /** The real shape is unknown (docs/autopilot-api.md#other-endpoints); a minimal object is enough. */
  account({ account }) {
    return { status: 200, body: { account_id: account.label, name: `Autopilot stand-in ${account.label}` } };
  },
};

type Membership = Parameters<Account['addMember']>;

function withMembership(ctx: RouteContext, act: (...args: Membership) => ApiResponse): ApiResponse {
  const list = ctx.account.getList(ctx.params[0] ?? '');
  if (list === undefined) return apiError(404, LIST_NOT_FOUND);
  const contact = ctx.account.findContact(ctx.params[1] ?? '');
  if (contact === undefined) return apiError(404, CONTACT_NOT_FOUND);
  return act(list, contact);
}

function membershipChange(changed: boolean, behaviour: StandInBehaviour): ApiResponse {
  return { status: 200, body: !changed && behaviour.membershipNotModified ? { not_modified: true } : {} };
}

function pageResponse(page: ReturnType<Account['page']>): ApiResponse {
  return {
    status: 200,
    body: {
      contacts: page.contacts.map(toReadShape),
      total_contacts: page.total,
      ...(page.bookmark === undefined ? {} : { bookmark: page.bookmark }),
    },
  };
}

export function handleRoute(name: RouteName, ctx: RouteContext): ApiResponse {
  return handlers[name](ctx);
}
