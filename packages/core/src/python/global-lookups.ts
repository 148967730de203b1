/**
 * Names code looks up in the notebook's namespace by a key it computes: `globals()[f"in{day}"]`,
 * or `g = globals()` and then `g[fname]`, `fname in g`, `g.get(fname)`, where the key is a string
 * literal, an f-string, or a name the code binds to an f-string (`fname = f"day{day}_{part}"`).
 * Each lookup is a pattern of names (`day*_*`); a key of any other form is not followed. A step
 * that runs such code needs the names bound so far that match, as Jupyter has them all.
 */

const NONE: readonly string[] = [];

/** The patterns of the names `code` looks up through `globals()`, as regular expression sources. */
export function globalLookupPatterns(code: string): readonly string[] {
  if (!code.includes('globals()')) return NONE;
  const holders = ['globals\\(\\)'];
  for (const m of code.matchAll(/\b([A-Za-z_]\w*)\s*=\s*globals\(\)/g)) holders.push(m[1]!);
  const templates = new Map<string, string>();
  for (const m of code.matchAll(/\b([A-Za-z_]\w*)\s*=\s*[fF](['"])(.*?)\2/g))
    templates.set(m[1]!, m[3]!);
  const holder = `(?:${holders.join('|')})`;
  const key = `(?:([fF]?)(['"])(.*?)\\2|([A-Za-z_]\\w*))`;
  const lookups = [
    new RegExp(`${holder}\\s*\\[\\s*${key}\\s*\\]`, 'g'),
    new RegExp(`${holder}\\s*\\.\\s*get\\(\\s*${key}`, 'g'),
    new RegExp(`${key}\\s+(?:not\\s+)?in\\s+${holder}(?!\\w)`, 'g'),
  ];
  const patterns = new Set<string>();
  for (const lookup of lookups)
    for (const m of code.matchAll(lookup)) {
      const [, prefix, quote, text, name] = m;
      const template =
        quote !== undefined ? (prefix === '' ? escape(text!) : templateOf(text!)) : undefined;
      const named = name !== undefined ? templates.get(name) : undefined;
      const source = template ?? (named !== undefined ? templateOf(named) : undefined);
      if (source !== undefined && source !== '') patterns.add(`^${source}$`);
    }
  return patterns.size === 0 ? NONE : [...patterns];
}

/** An f-string's text as a pattern: each `{...}` field matches any run of name characters. */
function templateOf(text: string): string {
  return text
    .split(/\{[^{}]*\}/)
    .map(escape)
    .join('\\w*');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
