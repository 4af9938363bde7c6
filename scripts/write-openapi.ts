import { writeFileSync } from 'node:fs';
import { openApiDocument } from '#functions/api/handler.ts';

/** Writes docs/openapi.json from the route table (a test fails when the committed copy is stale). */
export const openApiText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync('docs/openapi.json', openApiText());
  console.log('wrote docs/openapi.json');
}
