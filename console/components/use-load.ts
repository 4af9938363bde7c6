import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Result } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';

export type Load<T> =
  | { state: 'loading' }
  | { state: 'failed'; problem: Problem }
  | { state: 'loaded'; data: T };

/** Loads once on mount and again on `reload()`; a late answer for an earlier load is ignored. */
export const useLoad = <T>(load: () => Promise<Result<T>>, deps: unknown[]): [Load<T>, () => void] => {
  const [value, setValue] = useState<Load<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setValue({ state: 'loading' });
    void load().then((result) => {
      if (!current) return;
      setValue(
        result.ok ? { state: 'loaded', data: result.data } : { state: 'failed', problem: result.problem },
      );
    });
    return () => {
      current = false;
    };
  }, [...deps, round]);
  return [value, useCallback(() => setRound((r) => r + 1), [])];
};
