import type { ManifestResult, RefreshManifest } from '#lib/domain/refresh-manifest.ts';
import type { RefreshReader } from '#lib/ports/refresh-reader.ts';
import type { RefreshSegmentFacts } from '#lib/ports/refreshes.ts';

interface Folder {
  manifest: ManifestResult;
  mismatches: string[];
  facts: { ok: true; segments: RefreshSegmentFacts[] } | { ok: false; problems: string[] };
}

/**
 * Refresh folders in memory. Facts default to each segment's declared rows (1 per file without) and
 * listed attributes. While `failure` is set every read throws it, as an unreachable store would.
 */
export class FakeRefreshReader implements RefreshReader {
  private readonly folders = new Map<string, Folder>();
  /** Every read, as `<method>:<refreshId>`. */
  readonly reads: string[] = [];
  failure: Error | undefined;

  put(manifest: RefreshManifest, options: { mismatches?: string[]; factProblems?: string[] } = {}): this {
    const segments = manifest.segments.map((s) => ({
      id: s.id,
      name: s.name,
      profiles: s.files.reduce((n, f) => n + (f.rows ?? 1), 0),
      attributes: [...(s.attributes ?? [])],
    }));
    this.folders.set(manifest.refreshId, {
      manifest: { ok: true, manifest: structuredClone(manifest) },
      mismatches: options.mismatches ?? [],
      facts: options.factProblems ? { ok: false, problems: options.factProblems } : { ok: true, segments },
    });
    return this;
  }

  /** A folder whose manifest cannot be used, for these reasons. */
  putUnreadable(refreshId: string, problems: string[]): this {
    this.folders.set(refreshId, {
      manifest: { ok: false, problems },
      mismatches: [],
      facts: { ok: false, problems },
    });
    return this;
  }

  async manifest(refreshId: string): Promise<ManifestResult> {
    return structuredClone(this.folder('manifest', refreshId).manifest);
  }

  async verify(refreshId: string): Promise<string[]> {
    return [...this.folder('verify', refreshId).mismatches];
  }

  async facts(
    refreshId: string,
  ): Promise<{ ok: true; segments: RefreshSegmentFacts[] } | { ok: false; problems: string[] }> {
    return structuredClone(this.folder('facts', refreshId).facts);
  }

  private folder(method: string, refreshId: string): Folder {
    this.reads.push(`${method}:${refreshId}`);
    if (this.failure) throw this.failure;
    return (
      this.folders.get(refreshId) ?? {
        manifest: {
          ok: false,
          problems: [`s3://segments/refreshes/${refreshId}/manifest.json does not exist`],
        },
        mismatches: [],
        facts: { ok: false, problems: ['no folder'] },
      }
    );
  }
}
