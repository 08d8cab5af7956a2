// How deeply a YAML text nests, found by one linear scan before any parser runs. The `yaml`
// package and the rules after it recurse once per level: a few thousand levels overflow the stack
// ("Maximum call stack size exceeded", or a fatal out-of-memory when V8 compiles a regular
// expression at the stack's edge). Configs nest four or five levels; past MAX_NESTING the text is
// refused with a diagnostic that says so.

export const MAX_NESTING = 128;

/** `key: |-`, `- >2` and the like (indicators after the `|`/`>`): a block scalar follows. */
const BLOCK_SCALAR_HEAD = /(?:^|[\s:])[|>][-+0-9]+\s*(?:#.*)?$/;

/**
 * The offset where the nesting first goes past `limit` levels (block indentation levels, sequence
 * dashes and flow brackets together), or -1 when it never does. It may count a little more than a
 * parser would (brackets inside plain scalars), never less.
 */
export function nestingExcess(text: string, limit = MAX_NESTING): number {
  const indents: number[] = []; // open block levels by column
  let flow = 0;
  let blockScalarIndent = -1; // inside a `|`/`>` scalar: lines indented deeper than this are text
  let i = 0;
  while (i < text.length) {
    let lineEnd = text.indexOf('\n', i);
    if (lineEnd < 0) lineEnd = text.length;
    let j = i;
    while (j < lineEnd && (text[j] === ' ' || text[j] === '\t')) j++;
    const indent = j - i;
    const blank = j === lineEnd || text[j] === '#' || text[j] === '\r';
    if (blockScalarIndent >= 0) {
      if (blank || indent > blockScalarIndent) {
        i = lineEnd + 1;
        continue;
      }
      blockScalarIndent = -1;
    }
    if (blank) {
      i = lineEnd + 1;
      continue;
    }
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      // `- - - x`: each dash opens a level of its own.
      while ((text[j] === '-' || text[j] === '?') && (text[j + 1] === ' ' || j + 1 === lineEnd)) {
        j += 2;
        while (j < lineEnd && text[j] === ' ') j++;
        indents.push(j - i);
      }
      if (indents.length > limit) return j;
    }
    let lastNonSpace = '';
    for (let k = j; k < lineEnd; k++) {
      const c = text[k];
      if (c === '#' && (k === i || text[k - 1] === ' ' || text[k - 1] === '\t')) break;
      if (c === '"' || c === "'") {
        // A quoted scalar: its brackets are text. An unclosed one is the parser's to report.
        const close = c === '"' ? closingDouble(text, k + 1, lineEnd) : text.indexOf("'", k + 1);
        if (close < 0 || close >= lineEnd) break;
        k = close;
        lastNonSpace = c;
        continue;
      }
      if (c === '[' || c === '{') {
        flow++;
        if (indents.length + flow > limit) return k;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      if (c !== ' ' && c !== '\r') lastNonSpace = c;
    }
    if (
      flow === 0 &&
      (lastNonSpace === '|' || lastNonSpace === '>' || (/[-+0-9]/.test(lastNonSpace) && BLOCK_SCALAR_HEAD.test(text.slice(j, lineEnd))))
    )
      blockScalarIndent = indent;
    i = lineEnd + 1;
  }
  return -1;
}

function closingDouble(text: string, from: number, lineEnd: number): number {
  for (let k = from; k < lineEnd; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '"') return k;
  }
  return -1;
}
