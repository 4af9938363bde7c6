import { createHash } from 'node:crypto';
import { PermanentError } from '#lib/domain/errors.ts';
import type { OrttoClient } from './client.ts';
import type { OrttoCustomField, OrttoFieldType } from './custom-fields.ts';

/** Ortto refuses a second field whose name differs only in case (the stand-in does; Ortto likely too). */
const keyOf = (name: string): string => name.toLowerCase();

const indexed = (fields: readonly OrttoCustomField[]): Map<string, OrttoCustomField> =>
  new Map(fields.map((f) => [keyOf(f.name), f]));

/**
 * One Ortto account's custom fields, by name, for the life of the execution environment: read with
 * one `custom-field/get`, and a missing one created once with the `field_id` Ortto returns stored,
 * never derived. Concurrent sessions share one read and one create per field. Failures are not
 * kept: a read or a create that failed is tried again by the next caller.
 */
export class AccountFields {
  private loaded: Promise<Map<string, OrttoCustomField>> | undefined;
  private readonly creating = new Map<string, Promise<OrttoCustomField>>();

  /** Keeps a `custom-field/get` answer read for another reason (a key check), if none is kept yet. */
  prime(fields: readonly OrttoCustomField[]): void {
    this.loaded ??= Promise.resolve(indexed(fields));
  }

  /**
   * Forgets every field read so far: Ortto refused one of their ids as unknown (deleted in its web
   * app), so the next batch reads them again and creates what is missing, instead of failing its
   * writers for as long as this execution environment lives.
   */
  stale(): void {
    this.loaded = undefined;
  }

  /** The account's field named `name` (any case), created as `type` when the account has none. */
  async field(client: OrttoClient, name: string, type: OrttoFieldType): Promise<OrttoCustomField> {
    const key = keyOf(name);
    const known = (await this.load(client)).get(key);
    if (known !== undefined) return known;
    let pending = this.creating.get(key);
    if (pending === undefined) {
      pending = this.create(client, name, type);
      this.creating.set(key, pending);
      const settled = (): void => {
        this.creating.delete(key);
      };
      pending.then(settled, settled);
    }
    return pending;
  }

  private load(client: OrttoClient): Promise<Map<string, OrttoCustomField>> {
    if (this.loaded !== undefined) return this.loaded;
    const loading = client.getCustomFields().then(indexed);
    this.loaded = loading;
    loading.catch(() => {
      if (this.loaded === loading) this.loaded = undefined;
    });
    return loading;
  }

  private async create(client: OrttoClient, name: string, type: OrttoFieldType): Promise<OrttoCustomField> {
    const key = keyOf(name);
    try {
      const created = await client.createCustomField({ name, type });
      (await this.load(client)).set(key, created);
      return created;
    } catch (err) {
      if (!(err instanceof PermanentError) || err.details.status !== 400) throw err;
      // Another execution environment (or someone in Ortto's UI) may have made it since our read:
      // Ortto refuses a duplicate name, so read the fields again before giving up.
      this.loaded = undefined;
      const made = (await this.load(client)).get(key);
      if (made === undefined) throw err;
      return made;
    }
  }
}

/**
 * Each account's fields, keyed by a digest of its API key so the key itself is never kept here.
 * One per destination (one region), built once per execution environment.
 */
export class FieldIds {
  private readonly accounts = new Map<string, AccountFields>();

  forKey(apiKey: string): AccountFields {
    const digest = createHash('sha256').update(apiKey).digest('hex');
    let account = this.accounts.get(digest);
    if (account === undefined) {
      account = new AccountFields();
      this.accounts.set(digest, account);
    }
    return account;
  }
}
