import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../../console/router.ts';

describe('console routes: a run and an export’s run history', () => {
  it('reads #/runs/<id> and #/exports/<id>/runs, decoding the id', () => {
    expect(parseRoute('#/runs/run_123')).toEqual({ page: 'run', id: 'run_123' });
    expect(parseRoute('#/exports/exp_9/runs')).toEqual({ page: 'export-runs', id: 'exp_9' });
    expect(parseRoute('#/exports/a%2Fb/runs')).toEqual({ page: 'export-runs', id: 'a/b' });
  });

  it('links back to the same routes, so an id with a slash or a hash survives the round trip', () => {
    for (const route of [
      { page: 'run', id: 'run/1#x' },
      { page: 'export-runs', id: 'exp 1/2' },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route);
    }
  });

  it('names no page for an empty, undecodable or over-long id, or a deeper path', () => {
    expect(parseRoute('#/runs/').page).toBe('not-found');
    expect(parseRoute('#/runs/%E0%A4%A').page).toBe('not-found');
    expect(parseRoute(`#/runs/${'r'.repeat(257)}`).page).toBe('not-found');
    expect(parseRoute('#/runs/a/b').page).toBe('not-found');
    expect(parseRoute('#/exports//runs').page).not.toBe('export-runs');
  });
});
