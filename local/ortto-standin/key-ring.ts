import * as z from 'zod';
import { Account } from './account.ts';
import { REGIONS } from './routes.ts';
import type { KeyOptions } from './types.ts';

const KeyOptionsSchema = z.object({
  region: z.enum(REGIONS as ['global', 'eu', 'au']).default('global'),
  defaultMergeBy: z
    .array(z.enum(['str::email', 'str::ei', 'str::person_id']))
    .min(1)
    .max(3)
    .default(['str::email']),
});

export interface KeyEntry {
  account: Account;
  revoked: boolean;
  /** Revoked by the fault set's schedule, so a new fault set restores it. */
  revokedByFaults: boolean;
}

/** API keys, each its own account in one region. Errors never echo a key. */
export class KeyRing {
  private readonly keys = new Map<string, KeyEntry>();
  private counter = 0;

  add(apiKey: string, options: KeyOptions = {}): void {
    if (apiKey === '') throw new TypeError('An API key must not be empty.');
    if (this.keys.has(apiKey)) return;
    const { region, defaultMergeBy } = KeyOptionsSchema.parse(options);
    this.counter += 1;
    const account = new Account(`account-${this.counter}`, region, defaultMergeBy);
    this.keys.set(apiKey, { account, revoked: false, revokedByFaults: false });
  }

  get(apiKey: string): KeyEntry | undefined {
    return this.keys.get(apiKey);
  }

  /** For inspection: throws for a key that was never added. */
  entry(apiKey: string): KeyEntry {
    const entry = this.keys.get(apiKey);
    if (entry === undefined) throw new Error('Unknown API key: no stand-in account was created for it.');
    return entry;
  }

  setRevoked(apiKey: string, revoked: boolean): void {
    const entry = this.entry(apiKey);
    entry.revoked = revoked;
    entry.revokedByFaults = false;
  }

  revokeByFaults(entry: KeyEntry): void {
    entry.revoked = true;
    entry.revokedByFaults = true;
  }

  restoreRevokedByFaults(): void {
    for (const entry of this.keys.values()) {
      if (entry.revokedByFaults) {
        entry.revoked = false;
        entry.revokedByFaults = false;
      }
    }
  }
}
