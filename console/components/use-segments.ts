import { useEffect, useState } from 'preact/hooks';
import { type Api, call } from '../api/client.ts';
import type { Problem } from '../api/problems.ts';
import type { operations } from '../api/schema.d.ts';
import type { SizedSegment } from './cap-meter.ts';

type SegmentsAnswer = operations['listSegments']['responses'][200]['content']['application/json'];
export type Selection = NonNullable<SegmentsAnswer['selection']>;
/** A segment with its size and, when its source knows them, the attribute names it carries. */
export type ListedSegment = SegmentsAnswer['segments'][number] & SizedSegment;

export interface SegmentsState {
  segments: ListedSegment[] | undefined;
  selection: Selection | undefined;
  problem: Problem | undefined;
}

/**
 * Segments with their sizes and the API's cap verdict for the current selection on the chosen
 * connection, against the export's own cap when it has one (a new export: the default), asked
 * again whenever any of them changes. The last answer stays shown while the next
 * is on its way, and an answer to an earlier question is dropped.
 */
export const useSegments = (
  api: Api,
  segmentIds: readonly string[],
  connectionId: string,
  cap: number | undefined,
): SegmentsState => {
  const [state, setState] = useState<SegmentsState>({
    segments: undefined,
    selection: undefined,
    problem: undefined,
  });
  const ids = segmentIds.join(',');
  useEffect(() => {
    let current = true;
    const query = {
      ...(ids === '' ? {} : { segmentIds: ids }),
      ...(connectionId === '' ? {} : { connectionId }),
      ...(cap === undefined ? {} : { cap }),
    };
    void call(api.GET('/segments', { params: { query } })).then((r) => {
      if (!current) return;
      setState((prev) =>
        r.ok
          ? { segments: r.data.segments, selection: r.data.selection, problem: undefined }
          : { ...prev, problem: r.problem },
      );
    });
    return () => {
      current = false;
    };
  }, [api, ids, connectionId, cap]);
  return state;
};
