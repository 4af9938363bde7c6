import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '#lib/ports/logger.ts';

type Keys = Record<string, unknown>;

/**
 * Puts the keys of the scope a line is logged in (the Lambda invocation, the SQS record being
 * processed) on every line, whichever logger or child writes it, in front of any logger.
 *
 * The scope lives in AsyncLocalStorage, not on the logger. The sender works on several records of
 * one invocation at once with one logger: keys appended to that shared logger (Powertools'
 * `appendKeys`) would land on whichever record logs next, and resetting them after one record would
 * strip them from another still running. An AsyncLocalStorage scope follows each record's own
 * chain of awaits, so parallel records never see each other's keys, and the keys end with the
 * scope, so nothing leaks into the next record or invocation. The same holds for the local runtime,
 * where concurrent "invocations" share one logger.
 *
 * On a line, the line's own fields win over child keys, which win over scope keys.
 */
export class ScopedLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly scopes: AsyncLocalStorage<Keys> = new AsyncLocalStorage(),
    private readonly keys: Keys = {},
  ) {}

  /** Runs `work` with `keys` on every line logged inside it; scopes nest, the inner one's keys win. */
  withKeys<T>(keys: Keys, work: () => T): T {
    return this.scopes.run({ ...this.scopes.getStore(), ...keys }, work);
  }

  debug(message: string, fields?: Keys): void {
    this.inner.debug(message, this.fields(fields));
  }
  info(message: string, fields?: Keys): void {
    this.inner.info(message, this.fields(fields));
  }
  warn(message: string, fields?: Keys): void {
    this.inner.warn(message, this.fields(fields));
  }
  error(message: string, fields?: Keys): void {
    this.inner.error(message, this.fields(fields));
  }
  child(keys: Keys): Logger {
    return new ScopedLogger(this.inner, this.scopes, { ...this.keys, ...keys });
  }

  private fields(fields: Keys = {}): Keys {
    return { ...this.scopes.getStore(), ...this.keys, ...fields };
  }
}
