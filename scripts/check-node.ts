/**
 * `npm test` runs on the Node.js major the functions run on in Lambda (.nvmrc). The project pins
 * that Node as a dev dependency, so npm scripts use `node_modules/.bin/node` even on a machine whose
 * own Node is older; this check says which Node is running and stops the tests when it is another
 * major, because testing on another major hides real differences (module loading, fetch, Intl).
 *
 *   npx tsx scripts/check-node.ts [--root <repo>]
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface NodeFacts {
  /** `process.version` of the running Node, e.g. `v24.21.0`. */
  running: string;
  /** The contents of .nvmrc. */
  nvmrc: string;
  /** The exact version of the `node` dev dependency in package.json, if any. */
  pinned: string | undefined;
  /** package.json `engines.node`, if any. */
  engines: string | undefined;
}

export interface NodeCheck {
  ok: boolean;
  lines: string[];
}

const MAX_VERSION_LENGTH = 64;

/** The major of `24`, `v24`, `24.21.0` or `>=24`; undefined for anything else. */
export const majorOf = (text: string | undefined): number | undefined => {
  if (text === undefined || text.length > MAX_VERSION_LENGTH) return undefined;
  const match = /^\s*(?:>=\s*)?v?(\d+)(?:\.\d+){0,2}\s*$/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
};

export const checkNode = (facts: NodeFacts): NodeCheck => {
  const required = majorOf(facts.nvmrc);
  if (required === undefined) {
    return {
      ok: false,
      lines: [`.nvmrc: expected a Node.js major such as 24, found ${JSON.stringify(facts.nvmrc)}`],
    };
  }
  const problems: string[] = [];
  const running = majorOf(facts.running);
  if (running !== required) {
    problems.push(
      `node ${facts.running} is running, but the functions run on Node.js ${required} (.nvmrc): ` +
        'run `npm ci` (it installs the pinned Node into node_modules/.bin, which npm scripts use) ' +
        `or switch to Node.js ${required}`,
    );
  }
  if (majorOf(facts.pinned) !== required) {
    problems.push(
      `package.json devDependencies.node: expected ${required}.x.y, found ${facts.pinned ?? 'nothing'}`,
    );
  }
  if (majorOf(facts.engines) !== required) {
    problems.push(`package.json engines.node: expected ">=${required}", found ${facts.engines ?? 'nothing'}`);
  }
  return {
    ok: problems.length === 0,
    lines: [
      `node ${facts.running} (${process.execPath}); required: Node.js ${required} (.nvmrc)`,
      ...problems,
    ],
  };
};

export const readNodeFacts = (root: string): NodeFacts => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
    engines?: Record<string, string>;
  };
  return {
    running: process.version,
    nvmrc: readFileSync(join(root, '.nvmrc'), 'utf8').trim(),
    pinned: pkg.devDependencies?.node,
    engines: pkg.engines?.node,
  };
};

const main = (args: string[]): number => {
  const at = args.indexOf('--root');
  const root = resolve(at >= 0 ? (args[at + 1] ?? '.') : join(dirname(fileURLToPath(import.meta.url)), '..'));
  const result = checkNode(readNodeFacts(root));
  for (const line of result.lines) console.log(line);
  return result.ok ? 0 : 1;
};

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
