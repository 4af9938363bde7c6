/** Line-by-line text in pieces: how a planner checkpoint is written and read without one big string. */

/** Lines per piece: a few hundred kilobytes of text. */
const LINES_PER_PIECE = 1000;

export function* linePieces<T>(items: Iterable<T>, line: (item: T) => unknown): Generator<string> {
  let lines: string[] = [];
  for (const item of items) {
    lines.push(JSON.stringify(line(item)));
    if (lines.length === LINES_PER_PIECE) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/** The lines of a text given in pieces; the last line need not end with a newline. */
export function* linesOf(pieces: Iterable<string>): Generator<string> {
  let rest = '';
  for (const piece of pieces) {
    let from = 0;
    for (let nl = piece.indexOf('\n'); nl !== -1; nl = piece.indexOf('\n', from)) {
      const line = rest === '' ? piece.slice(from, nl) : rest + piece.slice(from, nl);
      rest = '';
      from = nl + 1;
      yield line;
    }
    // A v1 checkpoint is one long line: ropes make this concatenation cheap.
    if (from < piece.length) rest += piece.slice(from);
  }
  if (rest !== '') yield rest;
}
