import { describe, expect, it } from 'vitest';
import type { OrttoClient } from '#lib/adapters/ortto/client.ts';
import type { NewCustomField, OrttoCustomField } from '#lib/adapters/ortto/custom-fields.ts';
import { AccountFields, FieldIds } from '#lib/adapters/ortto/field-ids.ts';
import { PermanentError, TransientError } from '#lib/domain/errors.ts';

/** A scripted account: the fields it has, and what each call does next. */
class FakeAccount {
  fields: OrttoCustomField[] = [];
  gets = 0;
  creates: string[] = [];
  failNextGet: Error | undefined;
  /** Someone else creates the field just before our create reaches Ortto. */
  raceOn: string | undefined;
  private release: (() => void) | undefined;
  gate: Promise<void> | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }
  open(): void {
    this.release?.();
  }

  client(): OrttoClient {
    const client = {
      getCustomFields: async (): Promise<OrttoCustomField[]> => {
        this.gets++;
        await this.gate;
        const fail = this.failNextGet;
        this.failNextGet = undefined;
        if (fail !== undefined) throw fail;
        return this.fields.map((f) => ({ ...f }));
      },
      createCustomField: async ({ name, type }: NewCustomField): Promise<OrttoCustomField> => {
        this.creates.push(name);
        await this.gate;
        if (this.raceOn === name) this.fields.push({ id: `str:cm:${name}`, name, displayType: type });
        if (this.fields.some((f) => f.name.toLowerCase() === name.toLowerCase()))
          throw new PermanentError('Ortto answered 400: name: a field with this name already exists', {
            status: 400,
            reason: 'bad_request',
          });
        const field = { id: `${type}:cm:${name.toLowerCase()}`, name, displayType: type };
        this.fields.push(field);
        return field;
      },
    };
    return client as unknown as OrttoClient;
  }
}

describe('AccountFields', () => {
  it('reads the fields once and creates a missing one once, even for callers at the same time', async () => {
    const account = new FakeAccount();
    account.fields = [{ id: 'str:cm:plan', name: 'Plan', displayType: 'text' }];
    const fields = new AccountFields();
    const client = account.client();
    account.hold();
    const pending = Promise.all([
      fields.field(client, 'Seats', 'integer'),
      fields.field(client, 'seats', 'integer'),
      fields.field(client, 'Plan', 'text'),
    ]);
    account.open();
    const [a, b, plan] = await pending;
    expect(a).toEqual({ id: 'integer:cm:seats', name: 'Seats', displayType: 'integer' });
    expect(b).toBe(a);
    expect(plan?.id).toBe('str:cm:plan');
    expect(await fields.field(client, 'Seats', 'integer')).toBe(a);
    expect([account.gets, account.creates]).toEqual([1, ['Seats']]);
  });

  it('keeps the id Ortto returned, not one derived from the name', async () => {
    const account = new FakeAccount();
    const fields = new AccountFields();
    const made = await fields.field(account.client(), 'Plan Name', 'text');
    expect(made.id).toBe('text:cm:plan name');
  });

  it('does not keep a failed read: the next caller reads again', async () => {
    const account = new FakeAccount();
    account.failNextGet = new TransientError('Ortto answered 503', { status: 503 });
    const fields = new AccountFields();
    const client = account.client();
    await expect(fields.field(client, 'Plan', 'text')).rejects.toBeInstanceOf(TransientError);
    await expect(fields.field(client, 'Plan', 'text')).resolves.toMatchObject({ name: 'Plan' });
    expect(account.gets).toBe(2);
  });

  it('a create refused because the field appeared meanwhile reads the fields again and uses it', async () => {
    const account = new FakeAccount();
    account.raceOn = 'Plan';
    const fields = new AccountFields();
    const made = await fields.field(account.client(), 'Plan', 'text');
    expect(made.id).toBe('str:cm:Plan');
    expect([account.gets, account.creates]).toEqual([2, ['Plan']]);
  });

  it('a create refused for another reason is thrown, and not kept', async () => {
    const account = new FakeAccount();
    const client = account.client();
    const fields = new AccountFields();
    const refuse = client.createCustomField;
    let refusals = 1;
    (client as { createCustomField: typeof refuse }).createCustomField = async (def) => {
      if (refusals-- > 0)
        throw new PermanentError('Ortto answered 400: A maximum of 100 custom fields is allowed', {
          status: 400,
        });
      return refuse(def);
    };
    await expect(fields.field(client, 'Plan', 'text')).rejects.toThrow(/maximum of 100/);
    await expect(fields.field(client, 'Plan', 'text')).resolves.toMatchObject({ name: 'Plan' });
  });

  it('a cache primed by a key check needs no read of its own', async () => {
    const account = new FakeAccount();
    const fields = new AccountFields();
    fields.prime([{ id: 'str:cm:plan', name: 'Plan', displayType: 'text' }]);
    expect((await fields.field(account.client(), 'PLAN', 'text')).id).toBe('str:cm:plan');
    expect(account.gets).toBe(0);
  });
});

describe('FieldIds', () => {
  it('gives one key the same account every time, and another key its own', () => {
    const ids = new FieldIds();
    expect(ids.forKey('key-1')).toBe(ids.forKey('key-1'));
    expect(ids.forKey('key-2')).not.toBe(ids.forKey('key-1'));
  });

  it('never holds the key itself', () => {
    const ids = new FieldIds();
    ids.forKey('secret-key-value');
    expect(
      JSON.stringify([...(ids as unknown as { accounts: Map<string, unknown> }).accounts.keys()]),
    ).not.toContain('secret-key-value');
  });
});
