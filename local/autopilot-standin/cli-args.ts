/**
 * Strict command-line parsing shared by `npm run fake-autopilot` and `npm start`: a flag given twice,
 * a stray word, or a value that is not exactly what the flag takes is refused with a message naming
 * the flag — never silently reinterpreted (the last of two values winning, "0x10" read as 16, "" as 0).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A bad command line: print the message and exit with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/**
 * `parseArgs` in strict mode, plus: a non-repeatable flag given twice is refused, and a stray word is
 * explained (npm swallows `--flag` before a `--` and hands the script only the flag's value).
 */
export const parseFlags = (argv: readonly string[], options: Options, program: string): FlagValues => {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stray = parsed.positionals[0];
  if (stray !== undefined) {
    throw new UsageError(
      `unexpected argument "${stray.slice(0, 80)}". Flags go after a "--" when run through npm (e.g. npm ${program} -- --rate 20); without it npm keeps the flag for itself and passes on only its value.`,
    );
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name}: given more than once.`);
    seen.add(token.name);
  }
  return parsed.values as FlagValues;
};

/**
 * Flags npm took for itself (`npm start --rate=20` without `--`): npm passes them to the script only
 * as `npm_config_<name>` variables. Refused rather than ignored.
 */
export const flagsTakenByNpm = (names: readonly string[], env: NodeJS.ProcessEnv): string[] =>
  names.filter((name) => env[`npm_config_${name.replaceAll('-', '_')}`] !== undefined);

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number within [min, max] (and whole, when `integer`); anything else names the flag. */
export const numberFlag = (
  flag: string,
  raw: string,
  bounds: { min: number; max: number; integer?: boolean; minExclusive?: boolean },
): number => {
  const value = raw.length <= 40 && DECIMAL.test(raw.trim()) ? Number(raw) : Number.NaN;
  const { min, max, integer = false, minExclusive = false } = bounds;
  const inRange = Number.isFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
  if (!inRange || (integer && !Number.isSafeInteger(value))) {
    const what = integer ? 'an integer' : 'a number';
    const low = minExclusive ? `above ${min}` : `from ${min}`;
    throw new UsageError(
      `--${flag}: "${raw.slice(0, 40)}" is not valid (expected ${what} ${low} to ${max}).`,
    );
  }
  return value;
};

export const oneOf = <const T extends string>(flag: string, raw: string, allowed: readonly T[]): T => {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${flag}: "${raw.slice(0, 40)}" is not valid (expected ${allowed.join(' or ')}).`);
  }
  return raw as T;
};

/** `MIN-MAX` (or a single value) in ms, e.g. `20-80`. */
export const rangeFlag = (flag: string, raw: string): { min: number; max: number } => {
  const match = raw.length <= 40 ? /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(raw) : null;
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || min > max) {
    throw new UsageError(
      `--${flag}: "${raw.slice(0, 40)}" is not valid (expected MIN-MAX in ms, e.g. 20-80).`,
    );
  }
  return { min, max };
};
