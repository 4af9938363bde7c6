import type { ContactData } from '#lib/domain/contact.ts';
import type { CostModel } from '#lib/domain/costs.ts';
import { PermanentError, ValidationError } from '#lib/domain/errors.ts';
import type {
  ContactResult,
  Destination,
  DestinationSession,
  ListRef,
  MemberPage,
  RequestHooks,
} from '#lib/ports/destination.ts';
import { AutopilotClient } from './client.ts';
import { autopilotCosts } from './cost-model.ts';
import { type AutopilotWireContact, encodeContact } from './encoding.ts';
import { type AutopilotAgent, createAutopilotAgent } from './http.ts';

export interface AutopilotDestinationOptions {
  baseUrl?: string;
  /** Shared keep-alive pools; default: one created by this destination on first use. */
  dispatcher?: AutopilotAgent;
  timeoutMs?: number;
}

const encodingFailure = (err: ValidationError): string =>
  `invalid_custom_field: ${err.issues.map((i) => `${i.path.replace(/^custom\./, '')} ${i.reason}`).join(', ')}`;

const reasonOf = (err: PermanentError): string => err.details.reason ?? 'rejected';

/** Autopilot v1 behind the Destination port. Build once per execution environment. */
export class AutopilotDestination implements Destination {
  readonly name = 'autopilot';
  readonly membershipModes = ['list', 'field'] as const;
  readonly costs: CostModel = autopilotCosts;
  private dispatcher: AutopilotAgent | undefined;

  constructor(private readonly options: AutopilotDestinationOptions = {}) {
    this.dispatcher = options.dispatcher;
  }

  open(apiKey: string, hooks?: RequestHooks): DestinationSession {
    // The client's own deadline bounds every phase of a request, so the pools need no timeouts.
    this.dispatcher ??= createAutopilotAgent();
    return new AutopilotSession(
      new AutopilotClient({
        apiKey,
        dispatcher: this.dispatcher,
        ...(this.options.baseUrl === undefined ? {} : { baseUrl: this.options.baseUrl }),
        ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
        ...(hooks === undefined ? {} : { hooks }),
      }),
    );
  }
}

/**
 * One API key's session. A rejection that concerns one contact (bad value, unknown list) is that
 * contact's result; transient and fatal errors are thrown for the sender to act on.
 */
export class AutopilotSession implements DestinationSession {
  constructor(readonly client: AutopilotClient) {}

  async verify(): Promise<void> {
    await this.client.listLists();
  }

  async findLists(): Promise<ListRef[]> {
    return (await this.client.listLists()).map((l) => ({ id: l.listId, title: l.title }));
  }

  async createList(title: string): Promise<ListRef> {
    const { listId } = await this.client.createList(title);
    return { id: listId, title };
  }

  async upsertMany(contacts: readonly ContactData[], listId?: string): Promise<ContactResult[]> {
    const results: (ContactResult | undefined)[] = contacts.map(() => undefined);
    const wire: AutopilotWireContact[] = [];
    const positions: number[] = [];
    contacts.forEach((contact, i) => {
      try {
        wire.push(encodeContact(contact, listId));
        positions.push(i);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        results[i] = { email: contact.email, ok: false, reason: encodingFailure(err) };
      }
    });
    if (wire.length > 0) {
      const outcomes = await this.client.bulkUpsert(wire);
      outcomes.forEach((outcome, j) => {
        const i = positions[j];
        const contact = i === undefined ? undefined : contacts[i];
        if (i === undefined || contact === undefined) return;
        results[i] = outcome.ok
          ? { email: contact.email, ok: true }
          : { email: contact.email, ok: false, reason: outcome.reason };
      });
    }
    return results.map(
      (r, i): ContactResult => r ?? { email: contacts[i]?.email ?? '', ok: false, reason: 'not_accepted' },
    );
  }

  async upsertIntoList(contact: ContactData, listId: string): Promise<ContactResult> {
    let wire: AutopilotWireContact;
    try {
      wire = encodeContact(contact, listId);
    } catch (err) {
      if (err instanceof ValidationError)
        return { email: contact.email, ok: false, reason: encodingFailure(err) };
      throw err;
    }
    try {
      await this.client.upsertContact(wire);
      return { email: contact.email, ok: true };
    } catch (err) {
      if (err instanceof PermanentError) return { email: contact.email, ok: false, reason: reasonOf(err) };
      throw err;
    }
  }

  async removeFromList(listId: string, email: string): Promise<ContactResult> {
    try {
      await this.client.removeFromList(listId, email);
      return { email, ok: true };
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      // The desired state (not on the list) already holds for a contact Autopilot does not know.
      if (err.details.reason === 'contact_not_found') return { email, ok: true };
      return { email, ok: false, reason: reasonOf(err) };
    }
  }

  isMember(listId: string, email: string): Promise<boolean> {
    return this.client.isMember(listId, email);
  }

  async listMembers(listId: string, bookmark?: string): Promise<MemberPage> {
    const page = await this.client.listListContacts(listId, bookmark);
    const emails = page.contacts.flatMap((c) => (c.email === undefined ? [] : [c.email]));
    return page.bookmark === undefined ? { emails } : { emails, bookmark: page.bookmark };
  }
}
