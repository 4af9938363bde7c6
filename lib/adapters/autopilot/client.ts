// Longer than our other files on purpose: one method per Autopilot route (fourteen), each a few
// lines over the shared `exchange`. Parsing answers lives in answers.ts, HTTP and its agent in http.ts.
import type * as z from 'zod';
import { FatalRunError, PermanentError } from '#lib/domain/errors.ts';
import type { RequestHooks } from '#lib/ports/destination.ts';
import { type Exchange, errorBodyOf, expectAnswer, failureOf } from './answers.ts';
import { type AutopilotContact, type AutopilotWireContact, decodeContact } from './encoding.ts';
import {
  classifyNetworkError,
  invalidResponse,
  type RequestContext,
  reasonFromMessage,
  subjectOf,
} from './errors.ts';
import { type AutopilotAgent, DEFAULT_TIMEOUT_MS, defaultAutopilotAgent, send } from './http.ts';
import {
  AccountResponseSchema,
  BulkUpsertResponseSchema,
  ContactPageSchema,
  ContactRecordSchema,
  CreateListResponseSchema,
  CustomFieldsResponseSchema,
  EmptyResponseSchema,
  type ErrorBody,
  ListsResponseSchema,
  MembershipResponseSchema,
  UpsertResponseSchema,
} from './schemas.ts';

export const AUTOPILOT_BASE_URL = 'https://api2.autopilothq.com/v1';
/** Most contacts in one `POST /contacts` (docs/autopilot-api.md#limits). */
export const AUTOPILOT_BULK_LIMIT = 100;

/** Request shapes, as reported to {@link RequestHooks} so one rate budget governs them all. */
export type AutopilotRequestKind =
  | 'bulkUpsert'
  | 'bulkUpsertWithList'
  | 'upsert'
  | 'upsertWithList'
  | 'getContact'
  | 'deleteContact'
  | 'listLists'
  | 'createList'
  | 'listAdd'
  | 'listRemove'
  | 'membershipCheck'
  | 'listContacts'
  | 'customFields'
  | 'account';

export interface AutopilotClientOptions {
  /** Default `https://api2.autopilothq.com/v1`. */
  baseUrl?: string;
  apiKey: string;
  /** Keep-alive pools shared per execution environment (`createAutopilotAgent`); default: a process-wide one. */
  dispatcher?: AutopilotAgent;
  /** Whole-request deadline (connect, headers and body). Default 30 s. */
  timeoutMs?: number;
  hooks?: RequestHooks;
}

export type BulkUpsertOutcome =
  | { email: string | undefined; ok: true; contactId: string }
  | { email: string | undefined; ok: false; reason: 'missing_email' | 'not_accepted' };

/** Runs one page request, e.g. under a retry policy, so a failure re-reads only that page. */
export type PageCall = <T>(fetchPage: () => Promise<T>) => Promise<T>;

export interface ContactPageResult {
  contacts: AutopilotContact[];
  total: number;
  /** Absent on the last page. */
  bookmark?: string;
}

export interface AutopilotList {
  listId: string;
  title: string;
}

export interface CustomFieldDefinition {
  name: string;
  fieldType: string;
}

type Method = 'GET' | 'POST' | 'DELETE';

const enc = encodeURIComponent;
const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Typed Autopilot v1 client over Node's http/https. It classifies every outcome (errors.ts) and never retries:
 * the sender owns retries and the rate budget, which sees every request through `hooks`.
 */
export class AutopilotClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly dispatcher: AutopilotAgent;
  private readonly timeoutMs: number;
  private readonly hooks: RequestHooks | undefined;
  private readonly secrets: readonly string[];

  constructor(options: AutopilotClientOptions) {
    if (options.apiKey.trim() === '')
      throw new FatalRunError('The Autopilot API key is empty', 'missing_api_key');
    this.baseUrl = (options.baseUrl ?? AUTOPILOT_BASE_URL).replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.dispatcher = options.dispatcher ?? defaultAutopilotAgent();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.hooks = options.hooks;
    this.secrets = [options.apiKey];
  }

  /** `POST /contact`: add or update one contact (keyed by Email). */
  async upsertContact(contact: AutopilotWireContact): Promise<{ contactId: string }> {
    const kind = contact._autopilot_list === undefined ? 'upsert' : 'upsertWithList';
    const ctx = { route: 'POST /contact', subject: subjectOf(contact.Email ?? '(no email)') };
    const res = await this.exchange(kind, 'POST', '/contact', ctx, { contact });
    const body = this.expect(ctx, res, UpsertResponseSchema);
    return { contactId: body.contact_id };
  }

  /**
   * `POST /contacts`: add or update 1–100 contacts; outcomes in input order. Sizes outside 1–100 are
   * refused before sending. Contacts without Email are not sent (Autopilot could only create
   * unmatched duplicates); a contact missing from `email_contact_map` was not accepted.
   */
  async bulkUpsert(contacts: readonly AutopilotWireContact[]): Promise<BulkUpsertOutcome[]> {
    if (contacts.length === 0 || contacts.length > AUTOPILOT_BULK_LIMIT) {
      throw new PermanentError(
        `Autopilot POST /contacts refused before sending: ${contacts.length} contacts (1–${AUTOPILOT_BULK_LIMIT} allowed)`,
        { reason: 'bulk_size' },
      );
    }
    const emailOf = (c: AutopilotWireContact): string | undefined =>
      typeof c.Email === 'string' && c.Email.trim() !== '' ? c.Email : undefined;
    const sendable = contacts.filter((c) => emailOf(c) !== undefined);
    if (sendable.length === 0) {
      return contacts.map((c) => ({ email: c.Email, ok: false, reason: 'missing_email' }));
    }
    const kind = sendable.some((c) => c._autopilot_list !== undefined) ? 'bulkUpsertWithList' : 'bulkUpsert';
    const ctx = { route: 'POST /contacts' };
    const res = await this.exchange(kind, 'POST', '/contacts', ctx, { contacts: sendable });
    const body = this.expect(ctx, res, BulkUpsertResponseSchema);
    const idByEmail = new Map<string, string>();
    if (body.email_contact_map !== undefined) {
      for (const [email, id] of Object.entries(body.email_contact_map))
        idByEmail.set(email.toLowerCase(), id);
    } else if (body.contact_ids !== undefined && body.contact_ids.length === sendable.length) {
      // The 2015 response form: ids in request order.
      sendable.forEach((c, i) => {
        const id = body.contact_ids?.[i];
        const email = emailOf(c);
        if (id !== undefined && email !== undefined) idByEmail.set(email.toLowerCase(), id);
      });
    } else {
      throw invalidResponse(ctx, res.status, 'contact_ids does not match the contacts sent');
    }
    return contacts.map((c): BulkUpsertOutcome => {
      const email = emailOf(c);
      if (email === undefined) return { email: c.Email, ok: false, reason: 'missing_email' };
      const contactId = idByEmail.get(email.toLowerCase());
      return contactId === undefined
        ? { email, ok: false, reason: 'not_accepted' }
        : { email, ok: true, contactId };
    });
  }

  /** `GET /contact/{id_or_email}`; null when Autopilot answers 404. */
  async getContact(idOrEmail: string): Promise<AutopilotContact | null> {
    const ctx = { route: 'GET /contact/{contact_id_or_email}', subject: subjectOf(idOrEmail) };
    const res = await this.exchange('getContact', 'GET', `/contact/${enc(idOrEmail)}`, ctx);
    if (res.status === 404) return null;
    return decodeContact(this.expect(ctx, res, ContactRecordSchema));
  }

  /** `DELETE /contact/{id_or_email}` (200 or 204); a 404 is a PermanentError with reason `contact_not_found`. */
  async deleteContact(idOrEmail: string): Promise<void> {
    const ctx = { route: 'DELETE /contact/{contact_id_or_email}', subject: subjectOf(idOrEmail) };
    const res = await this.exchange('deleteContact', 'DELETE', `/contact/${enc(idOrEmail)}`, ctx);
    if (res.status === 404) throw this.failure(ctx, res, 'contact_not_found');
    this.expect(ctx, res, EmptyResponseSchema);
  }

  /** `GET /lists`: every list (not paginated). Also the cheapest authenticated read. */
  async listLists(): Promise<AutopilotList[]> {
    const ctx = { route: 'GET /lists' };
    const res = await this.exchange('listLists', 'GET', '/lists', ctx);
    return this.expect(ctx, res, ListsResponseSchema).lists.map((l) => ({
      listId: l.list_id,
      title: l.title,
    }));
  }

  /** `POST /list`. Autopilot may create a second list with the same name: look up by title first. */
  async createList(name: string): Promise<{ listId: string }> {
    const ctx = { route: 'POST /list' };
    const res = await this.exchange('createList', 'POST', '/list', ctx, { name });
    return { listId: this.expect(ctx, res, CreateListResponseSchema).list_id };
  }

  /** `POST /list/{list_id}/contact/{id_or_email}`; the contact must exist. */
  async addToList(listId: string, idOrEmail: string): Promise<{ notModified: boolean }> {
    return this.membershipWrite('listAdd', 'POST', listId, idOrEmail);
  }

  /** `DELETE /list/{list_id}/contact/{id_or_email}`; a 404 without a message counts as not modified. */
  async removeFromList(listId: string, idOrEmail: string): Promise<{ notModified: boolean }> {
    return this.membershipWrite('listRemove', 'DELETE', listId, idOrEmail);
  }

  /**
   * `GET /list/{list_id}/contact/{id_or_email}`: 200 ⇒ member; 404 without a message or for an
   * unknown contact ⇒ not a member; 404 for an unknown list ⇒ PermanentError `list_not_found`.
   */
  async isMember(listId: string, idOrEmail: string): Promise<boolean> {
    const ctx = {
      route: 'GET /list/{list_id}/contact/{contact_id_or_email}',
      subject: `${subjectOf(listId)}, ${subjectOf(idOrEmail)}`,
    };
    const res = await this.exchange('membershipCheck', 'GET', this.membershipPath(listId, idOrEmail), ctx);
    if (res.status === 404) {
      const message = this.errorBody(res)?.message;
      if (message === undefined || message.trim() === '') return false;
      const reason = reasonFromMessage(message);
      if (reason === 'contact_not_found') return false;
      throw this.failure(ctx, res);
    }
    this.expect(ctx, res, MembershipResponseSchema);
    return true;
  }

  /** `GET /contacts[/{bookmark}]`: one page of up to 100 contacts. */
  async listContacts(bookmark?: string): Promise<ContactPageResult> {
    const path = bookmark === undefined ? '/contacts' : `/contacts/${enc(bookmark)}`;
    const ctx = { route: bookmark === undefined ? 'GET /contacts' : 'GET /contacts/{bookmark}' };
    return this.page(ctx, path);
  }

  /** `GET /list/{list_id}/contacts[/{bookmark}]`; an unknown list is a PermanentError `list_not_found`. */
  async listListContacts(listId: string, bookmark?: string): Promise<ContactPageResult> {
    const base = `/list/${enc(listId)}/contacts`;
    const path = bookmark === undefined ? base : `${base}/${enc(bookmark)}`;
    const ctx = {
      route:
        bookmark === undefined ? 'GET /list/{list_id}/contacts' : 'GET /list/{list_id}/contacts/{bookmark}',
      subject: subjectOf(listId),
    };
    return this.page(ctx, path, 'list_not_found');
  }

  /** Every contact of the account, following bookmarks one page after another, each through `call`. */
  allContacts(call?: PageCall): AsyncGenerator<AutopilotContact, void, undefined> {
    return this.follow((bookmark) => this.listContacts(bookmark), call);
  }

  /** Every contact on a list, following bookmarks one page after another, each through `call`. */
  allListContacts(listId: string, call?: PageCall): AsyncGenerator<AutopilotContact, void, undefined> {
    return this.follow((bookmark) => this.listListContacts(listId, bookmark), call);
  }

  /** `GET /contacts/custom_fields`: every custom field definition. */
  async customFields(): Promise<CustomFieldDefinition[]> {
    const ctx = { route: 'GET /contacts/custom_fields' };
    const res = await this.exchange('customFields', 'GET', '/contacts/custom_fields', ctx);
    return this.expect(ctx, res, CustomFieldsResponseSchema).map((f) => ({
      name: f.name,
      fieldType: f.fieldType,
    }));
  }

  /** `GET /account`: shape undocumented, returned as an object. */
  async account(): Promise<Record<string, unknown>> {
    const ctx = { route: 'GET /account' };
    const res = await this.exchange('account', 'GET', '/account', ctx);
    return this.expect(ctx, res, AccountResponseSchema);
  }

  private membershipPath(listId: string, idOrEmail: string): string {
    return `/list/${enc(listId)}/contact/${enc(idOrEmail)}`;
  }

  private async membershipWrite(
    kind: 'listAdd' | 'listRemove',
    method: 'POST' | 'DELETE',
    listId: string,
    idOrEmail: string,
  ): Promise<{ notModified: boolean }> {
    const ctx = {
      route: `${method} /list/{list_id}/contact/{contact_id_or_email}`,
      subject: `${subjectOf(listId)}, ${subjectOf(idOrEmail)}`,
    };
    const res = await this.exchange(kind, method, this.membershipPath(listId, idOrEmail), ctx);
    // As for the membership check, a 404 without a message means "not on the list": nothing to remove.
    if (method === 'DELETE' && res.status === 404 && !this.errorBody(res)?.message?.trim()) {
      return { notModified: true };
    }
    const body = this.expect(ctx, res, MembershipResponseSchema);
    return { notModified: body?.not_modified === true };
  }

  private async page(ctx: RequestContext, path: string, notFoundReason?: string): Promise<ContactPageResult> {
    const res = await this.exchange('listContacts', 'GET', path, ctx);
    if (res.status === 404 && notFoundReason !== undefined) throw this.failure(ctx, res, notFoundReason);
    const body = this.expect(ctx, res, ContactPageSchema);
    return {
      contacts: body.contacts.map(decodeContact),
      total: body.total_contacts,
      ...(body.bookmark === undefined || body.bookmark === '' ? {} : { bookmark: body.bookmark }),
    };
  }

  private async *follow(
    fetchPage: (bookmark: string | undefined) => Promise<ContactPageResult>,
    call: PageCall = (fetch) => fetch(),
  ): AsyncGenerator<AutopilotContact, void, undefined> {
    const seen = new Set<string>();
    let bookmark: string | undefined;
    for (;;) {
      const at = bookmark;
      const page = await call(() => fetchPage(at));
      yield* page.contacts;
      if (page.bookmark === undefined) return;
      if (seen.has(page.bookmark)) {
        throw new PermanentError('Autopilot paging returned a bookmark it had returned before; stopped', {
          reason: 'repeated_bookmark',
        });
      }
      seen.add(page.bookmark);
      bookmark = page.bookmark;
    }
  }

  /** One HTTP request, bracketed by the hooks. Throws only for requests that got no answer. */
  private async exchange(
    kind: AutopilotRequestKind,
    method: Method,
    path: string,
    ctx: RequestContext,
    payload?: unknown,
  ): Promise<Exchange> {
    await this.hooks?.beforeRequest(kind);
    const headers: Record<string, string> = { autopilotapikey: this.apiKey, Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const controller = new AbortController();
    const timeoutMs = Math.max(
      1,
      Math.min(this.timeoutMs, this.hooks?.timeLeftMs?.() ?? Number.POSITIVE_INFINITY),
    );
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = performance.now();
    let status = 0;
    try {
      const res = await send(`${this.baseUrl}${path}`, {
        agent: this.dispatcher,
        method,
        headers,
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: controller.signal,
      });
      status = res.status;
      return { status, text: res.text, retryAfter: headerValue(res.headers['retry-after']) };
    } catch (err) {
      status = 0;
      throw classifyNetworkError(ctx, err, this.secrets, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
      this.hooks?.afterResponse(kind, status, performance.now() - started);
    }
  }

  private errorBody(res: Exchange): ErrorBody | undefined {
    return errorBodyOf(res);
  }

  private failure(ctx: RequestContext, res: Exchange, defaultReason?: string): Error {
    return failureOf(ctx, res, this.secrets, defaultReason);
  }

  /** A 2xx parsed with `schema`; anything else thrown as its classified error. */
  private expect<T>(ctx: RequestContext, res: Exchange, schema: z.ZodType<T>): T {
    return expectAnswer(ctx, res, schema, this.secrets);
  }
}
