import type { Connection } from '../api/client.ts';

export const SHARING_TEXT: Record<Connection['sharing'], string> = {
  admins: 'Admins only',
  'admins+contributors': 'Admins and contributors',
};

export const STATUS_TEXT: Record<Connection['status'], string> = {
  active: 'OK',
  invalid_key: 'Key rejected',
};

export const rateText = (perSecond: number): string => `${perSecond.toLocaleString('en-US')} requests/s`;
export const capText = (cap: number): string => `${cap.toLocaleString('en-US')} contacts`;

export type DestinationType = Connection['type'];
export type OrttoRegion = NonNullable<Connection['region']>;

export const DESTINATION_TEXT: Record<DestinationType, string> = { autopilot: 'Autopilot', ortto: 'Ortto' };

export const REGION_TEXT: Record<OrttoRegion, string> = { global: 'Global', eu: 'Europe', au: 'Australia' };

/** The host each region's keys work on, for the admin to match with the account's settings. */
export const REGION_HOST: Record<OrttoRegion, string> = {
  global: 'api.ap3api.com',
  eu: 'api.eu.ap3api.com',
  au: 'api.au.ap3api.com',
};

/** Each destination's documented request rate, for the hint beside a blank rate budget. */
export const DOCUMENTED_RATE: Record<DestinationType, number> = { autopilot: 5, ortto: 10 };

/** A connection's destination as people read it: "Autopilot", "Ortto (Europe)". */
export const destinationText = (c: { type: DestinationType; region?: OrttoRegion | undefined }): string =>
  c.type === 'ortto' ? `Ortto (${REGION_TEXT[c.region ?? 'global']})` : 'Autopilot';
