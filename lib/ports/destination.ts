import type { DestinationAddress } from '#lib/domain/connection.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import type { CostModel } from '#lib/domain/costs.ts';
import type { MembershipMode } from '#lib/domain/plan.ts';

export type ContactResult =
  | { email: string; ok: true }
  | {
      email: string;
      ok: false;
      reason: string;
      /**
       * The destination said why it refused this contact (Ortto names the field), so sending it alone
       * would be refused alike: it is not retried one by one. Absent: a bulk answer without a reason.
       */
      explained?: boolean;
    };

export interface ListRef {
  id: string;
  title: string;
}

/**
 * Called around every HTTP request a session makes, so one rate budget governs them all.
 * `kind` names the request shape (`bulkUpsert`, `upsertWithList`, `listRemove`, ...).
 */
export interface RequestHooks {
  beforeRequest(kind: string): Promise<void>;
  afterResponse(kind: string, status: number, elapsedMs: number): void;
  /**
   * The longest the request about to start may take (the caller's deadline); the destination's own
   * timeout applies when it is shorter. A request never outlasts the invocation that sends it.
   */
  timeLeftMs?(): number;
}

/**
 * One authenticated conversation with a destination account. Every method is one request unless
 * it says otherwise, and throws TransientError / PermanentError / FatalRunError (lib/domain/errors).
 */
export interface DestinationSession {
  /** A cheap authenticated read; throws FatalRunError('invalid_api_key') when the key is refused. */
  verify(): Promise<void>;
  findLists(): Promise<ListRef[]>;
  createList(title: string): Promise<ListRef>;
  /**
   * Bulk add-or-update of up to `costs.bulkLimit` contacts, keyed by email. With `listId`, asks the
   * destination to put each contact on that list too (it may ignore the request: check with
   * `isMember`). Returns one result per contact, in input order.
   */
  upsertMany(contacts: readonly ContactData[], listId?: string): Promise<ContactResult[]>;
  /** Add-or-update one contact and put it on one list. */
  upsertIntoList(contact: ContactData, listId: string): Promise<ContactResult>;
  /** Takes a contact off a list; a contact that is not on it (or unknown) counts as done. */
  removeFromList(listId: string, email: string): Promise<ContactResult>;
  isMember(listId: string, email: string): Promise<boolean>;
  /**
   * One page of a list's members (Autopilot: 100 a page), from `bookmark` (absent: the first page).
   * `bookmark` in the answer continues the reading; absent on the last page. Members without an
   * address are left out. A list that does not exist is a PermanentError.
   */
  listMembers(listId: string, bookmark?: string): Promise<MemberPage>;
  /**
   * How many members the destination itself counts on a list, in one request, so a run can be
   * verified without reading the members back (Ortto: `tags/get`'s count of that exact tag, 0 for a
   * tag nobody carries). Undefined when the destination cannot tell; absent where it has no such
   * count (Autopilot).
   */
  countMembers?(listId: string): Promise<number | undefined>;
}

export interface MemberPage {
  emails: string[];
  bookmark?: string;
}

/** A marketing platform we export into: Autopilot or Ortto. */
export interface Destination {
  readonly name: string;
  readonly costs: CostModel;
  /** How an export may keep membership here (Autopilot: lists or fields; Ortto: tags). */
  readonly membershipModes: readonly MembershipMode[];
  open(apiKey: string, hooks?: RequestHooks): DestinationSession;
}

/** The destination adapter for a connection's platform and region. */
export interface Destinations {
  for(address: DestinationAddress): Destination;
}

/** Every connection on one destination (tests, and the local runtime's single stand-in). */
export const oneDestination = (destination: Destination): Destinations => ({ for: () => destination });
