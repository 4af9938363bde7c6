import { describe, expect, it } from 'vitest';
import { openApiDocument } from '#functions/api/handler.ts';
import { ApiHarness } from '#test/support/api-harness.ts';

/** As much of a JSON Schema as the checks below read. */
interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  required?: string[];
}

describe('GET /segments and the attributes segments carry', () => {
  it('lists each segment’s attribute names when its source knows them, and leaves them out when not', async () => {
    const h = new ApiHarness();
    h.segments.listSegments = async () => [
      { id: 'known', name: 'Known', profiles: 2, attributes: ['email', 'plan'] },
      { id: 'unknown', name: 'Unknown', profiles: 1 },
    ];

    const reply = await h.call('GET', '/segments', { token: 'dev-viewer' });

    expect(reply.status).toBe(200);
    expect(reply.body.segments).toEqual([
      { id: 'known', name: 'Known', profiles: 2, attributes: ['email', 'plan'] },
      { id: 'unknown', name: 'Unknown', profiles: 1 },
    ]);
  });

  it('documents attributes as an optional list of names, so the console’s typed client sees them', () => {
    const doc = openApiDocument() as {
      paths: Record<
        string,
        { get: { responses: Record<string, { content: Record<string, { schema: Node }> }> } }
      >;
    };
    const schema = doc.paths['/segments']?.get.responses['200']?.content['application/json']?.schema;
    const segment = schema?.properties?.segments?.items;

    expect(segment?.properties?.attributes).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(segment?.required).toEqual(['id', 'name', 'profiles']);
  });
});
