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
