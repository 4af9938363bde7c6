/*
 * RFC 4180 CSV over raw bytes. Every delimiter (`"`, `,`, CR, LF) is ASCII and UTF-8 never
 * uses ASCII bytes inside a multi-byte character, so records can be found and split without
 * decoding; only field values are decoded. Lenient in one way: a `"` inside an unquoted field is
 * kept as a literal character (common in exports, e.g. `5" screen`).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

/** `findCsvRecordEnd` results when no record end is in the buffer. */
export const NEED_MORE = -1;
export const INSIDE_QUOTES = -2;

// Record-splitting states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * Index of the LF ending the record that starts at `from`, or NEED_MORE (the buffer ended
 * outside quotes) or INSIDE_QUOTES (the buffer ended inside a quoted field).
 */
export const findCsvRecordEnd = (buf: Buffer, from: number): number => {
  let state: number = FIELD_START;
  let i = from;
  const n = buf.length;
  while (i < n) {
    if (state === QUOTED) {
      const q = buf.indexOf(QUOTE, i);
      if (q < 0) return INSIDE_QUOTES;
      state = QUOTE_IN_QUOTED;
      i = q + 1;
      continue;
    }
    const b = buf[i] as number;
    if (b === LF) return i;
    if (b === QUOTE) {
      if (state === FIELD_START) state = QUOTED;
      else if (state === QUOTE_IN_QUOTED) state = QUOTED;
    } else if (b === COMMA) {
      state = FIELD_START;
    } else if (state !== UNQUOTED) {
      state = UNQUOTED;
    }
    i++;
  }
  return state === QUOTED ? INSIDE_QUOTES : NEED_MORE;
};

export type CsvFields = { ok: true; fields: string[] } | { ok: false; why: string };

/** Splits one record (`buf[start, end)`, line terminator excluded) into decoded field values. */
export const parseCsvRecord = (buf: Buffer, start: number, end: number): CsvFields => {
  const fields: string[] = [];
  let i = start;
  for (;;) {
    if (i >= end) {
      fields.push('');
      return { ok: true, fields };
    }
    if (buf[i] === QUOTE) {
      let j = i + 1;
      let escaped = false;
      let close = -1;
      while (close < 0) {
        const q = buf.indexOf(QUOTE, j);
        if (q < 0 || q >= end) return { ok: false, why: 'unterminated quoted field' };
        if (q + 1 < end && buf[q + 1] === QUOTE) {
          escaped = true;
          j = q + 2;
        } else {
          close = q;
        }
      }
      const value = buf.toString('utf8', i + 1, close);
      fields.push(escaped ? value.replaceAll('""', '"') : value);
      i = close + 1;
      if (i === end) return { ok: true, fields };
      if (buf[i] !== COMMA) return { ok: false, why: 'unexpected text after a closing quote' };
      i++;
    } else {
      let c = buf.indexOf(COMMA, i);
      if (c < 0 || c > end) c = end;
      fields.push(buf.toString('utf8', i, c));
      if (c === end) return { ok: true, fields };
      i = c + 1;
    }
  }
};

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field, quoted only when it must be. */
export const encodeCsvField = (value: string): string =>
  NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

/** One CSV record with its CRLF terminator (RFC 4180). */
export const encodeCsvRecord = (values: readonly string[]): string =>
  `${values.map(encodeCsvField).join(',')}\r\n`;
