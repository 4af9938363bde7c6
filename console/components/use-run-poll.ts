import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import { isActive, type Run } from './run-format.ts';

export const POLL_EVERY_MS = 2_000;

export interface RunPoll {
  run: Run | undefined;
  /** Why the run could not be loaded (nothing shown yet) or the last refresh failed (older data shown). */
  problem: Problem | undefined;
  /** Shows a run the page already holds (e.g. the answer to cancel) and reads it again once. */
  replace: (run: Run) => void;
}

/** Errors worth another try: the API unreachable or failing; a 4xx will answer the same again. */
const transient = (problem: Problem): boolean => problem.status === 0 || problem.status >= 500;

/**
 * Reads a run, then again every {@link POLL_EVERY_MS} while it is active. It stops when the run
 * ends, on an error that will not go away, and when the page is left (unmount), so no request
 * outlives the page.
 */
export const useRunPoll = (api: Api, id: string): RunPoll => {
  const [run, setRun] = useState<Run | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [round, setRound] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const result = await call(api.GET('/runs/{id}', { params: { path: { id } } }));
      if (stopped) return;
      if (result.ok) {
        setRun(result.data);
        setProblem(undefined);
        if (!isActive(result.data.status)) return;
      } else {
        setProblem(result.problem);
        if (!transient(result.problem)) return;
      }
      timer = setTimeout(() => void tick(), POLL_EVERY_MS);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, id, round]);

  const replace = useCallback((next: Run) => {
    setRun(next);
    setRound((r) => r + 1);
  }, []);
  return { run, problem, replace };
};
