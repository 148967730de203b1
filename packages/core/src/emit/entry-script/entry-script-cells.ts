/**
 * The cells an entry script runs, read back from its text (`buildEntryScriptForStep` writes them as
 * `(N, r'''code''')` or, when a raw string cannot hold the code, `(N, "json escaped")`): what a
 * cluster run ran, from the pipeline spec KFP keeps, to check a notebook against it.
 */

/** One cell of a script: its index in the notebook and the code that ran. */
export interface EntryScriptCell {
  readonly cell: number;
  readonly code: string;
}

const ENTRY = /^ {8}\((\d+), /;
const JSON_STRING = /^"(?:[^"\\\n]|\\.)*"/;

/** The `cells=[...]` of an entry script, in order; none when the script has no such list. */
export function cellsOfEntryScript(script: string): EntryScriptCell[] {
  const start = script.indexOf('\n    cells=[\n');
  if (start < 0) return [];
  const cells: EntryScriptCell[] = [];
  let at = start + '\n    cells=[\n'.length;
  for (;;) {
    const rest = script.slice(at);
    const entry = ENTRY.exec(rest);
    if (entry === null) return cells;
    let literal = rest.slice(entry[0].length);
    let code: string;
    let length: number;
    if (literal.startsWith("r'''")) {
      const end = literal.indexOf("'''", 4);
      if (end < 0) return cells;
      code = literal.slice(4, end);
      length = end + 3;
    } else {
      const json = JSON_STRING.exec(literal);
      if (json === null) return cells;
      code = JSON.parse(json[0]) as string;
      length = json[0].length;
    }
    literal = literal.slice(length);
    if (!literal.startsWith('),\n')) return cells;
    cells.push({ cell: Number(entry[1]), code });
    at += entry[0].length + length + 3;
  }
}
