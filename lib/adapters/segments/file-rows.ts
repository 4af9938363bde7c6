import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { parseCsvRecord } from './csv.ts';
import { malformed, SegmentSourceConfigError } from './errors.ts';
import type { SegmentManifestEntry } from './manifest.ts';
import type { RawRecord } from './record-scanner.ts';

/*
 * One scanned record of a segment file becomes a profile, or a counted skip with its line and
 * reason: a bad row never fails the page. A bad CSV header does fail: no row could be read.
 */

export const jsonRow = (idField: string, record: RawRecord, page: SegmentPage): void => {
  const profileId = `line:${record.line}`;
  if (record.broken) {
    page.skipped.push({ profileId, reason: malformed(record.broken) });
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(record.buf.toString('utf8', record.start, record.end));
  } catch {
    page.skipped.push({ profileId, reason: malformed('invalid JSON') });
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    page.skipped.push({ profileId, reason: malformed('not a JSON object') });
    return;
  }
  const { [idField]: rawId, ...attributes } = value as Record<string, unknown>;
  let id: string | undefined;
  if (typeof rawId === 'string' && rawId.trim() !== '') id = rawId;
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  if (id === undefined) {
    const why = rawId === undefined || rawId === null || rawId === '' ? 'missing' : 'not a string or number';
    page.skipped.push({ profileId, reason: malformed(`id field "${idField}" ${why}`) });
    return;
  }
  page.profiles.push({ id, attributes });
};

export const csvRow = (idField: string, record: RawRecord, header: string[], page: SegmentPage): void => {
  const profileId = `line:${record.line}`;
  if (record.broken) {
    page.skipped.push({ profileId, reason: malformed(record.broken) });
    return;
  }
  const parsed = parseCsvRecord(record.buf, record.start, record.end);
  if (!parsed.ok) {
    page.skipped.push({ profileId, reason: malformed(parsed.why) });
    return;
  }
  const { fields } = parsed;
  if (fields.length !== header.length) {
    page.skipped.push({
      profileId,
      reason: malformed(`expected ${header.length} cells, found ${fields.length}`),
    });
    return;
  }
  let id: string | undefined;
  const attributes: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const value = fields[i] as string;
    if (value === '') continue;
    const column = header[i] as string;
    if (column === idField) id = value;
    else attributes[column] = value;
  }
  if (id === undefined || id.trim() === '') {
    page.skipped.push({ profileId, reason: malformed(`id field "${idField}" missing`) });
    return;
  }
  page.profiles.push({ id, attributes });
};

export const parseHeader = (idField: string, record: RawRecord, entry: SegmentManifestEntry): string[] => {
  const where = `${entry.file} (segment "${entry.id}"), header on line ${record.line}`;
  if (record.broken) throw new SegmentSourceConfigError(`${where}: ${record.broken}`);
  const parsed = parseCsvRecord(record.buf, record.start, record.end);
  if (!parsed.ok) throw new SegmentSourceConfigError(`${where}: ${parsed.why}`);
  const header = parsed.fields.map((f) => f.trim());
  const seen = new Set<string>();
  header.forEach((column, i) => {
    if (column === '') throw new SegmentSourceConfigError(`${where}: column ${i + 1} has no name`);
    if (seen.has(column)) throw new SegmentSourceConfigError(`${where}: duplicate column "${column}"`);
    seen.add(column);
  });
  if (!seen.has(idField)) {
    throw new SegmentSourceConfigError(`${where}: no "${idField}" column (the profile id field)`);
  }
  return header;
};
