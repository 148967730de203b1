/**
 * The KFP IR as YAML, written directly: the same text js-yaml's `dump(doc, { lineWidth: -1,
 * noRefs: true })` writes (block style, two-space indent, sequences indented under their key),
 * several times faster on a large pipeline, where most of js-yaml's time goes into building and
 * styling a node for every scalar. Scalars that are not simple words (quoted, multi-line, floats)
 * are styled by js-yaml itself, one scalar at a time, so every choice of quoting stays its choice;
 * a document this writer does not cover (a key on several lines or longer than 1,024 characters,
 * a value that is not plain data) is handed whole to js-yaml.
 *
 * `LiteralBlock` values are the entry scripts: written as literal block scalars without asking
 * (they are checked to be representable exactly that way, see `literalBlockFor`).
 */
import { DUMP_SCHEMA, dump } from 'js-yaml';
import { BoundedCache } from '../../python/bounded-cache.js';

const DUMP_OPTIONS = { lineWidth: -1, noRefs: true } as const;

/** A text written as a literal block scalar (`|`), as it is. */
export class LiteralBlock {
  constructor(readonly text: string) {}
}

/** Text a YAML literal block (`|`) represents exactly: printable, no CR, no leading blank. */
export function literalBlockFor(text: string): LiteralBlock | string {
  return text.trim() !== '' && !UNSAFE_IN_LITERAL_BLOCK.test(text) && !/^[ \t\n]/.test(text)
    ? new LiteralBlock(text)
    : text;
}

/** A string on one line with the text js-yaml writes for it, worked out in advance. */
export class StyledString {
  private constructor(
    readonly value: string,
    readonly yaml: string,
  ) {}

  /** For a text every document carries (the runtime): styled once, not once a document. */
  static of(value: string): StyledString | string {
    return value.includes('\n') ? value : new StyledString(value, scalarByJsYaml(value));
  }
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_LITERAL_BLOCK = /[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f\u0085\u2028\u2029\ufeff]/;

/** The document as YAML, ending in a newline (and `...` where js-yaml ends it so). */
export function writeIrYaml(doc: unknown): string {
  const writer = new Writer();
  try {
    writer.value(doc, 0, true);
  } catch (error) {
    if (error === UNCOVERED) return dump(plainData(doc), DUMP_OPTIONS);
    throw error;
  }
  return writer.text + (writer.openEnded ? '\n...\n' : '\n');
}

/** Thrown where the writer meets what it does not cover. */
const UNCOVERED = new Error('not covered by the IR writer');

/**
 * Words js-yaml writes plain when no schema type claims them: no indicator, space, quote or line
 * break anywhere, and not starting with a digit, sign or dot (numbers, `.inf`, timestamps).
 */
const SIMPLE_WORD = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const STRING_TAG = DUMP_SCHEMA.defaultScalarTag;

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A collection js-yaml writes in block style: one with entries (a pair whose value is undefined is none). */
function isBlockCollection(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof LiteralBlock || value instanceof StyledString) return false;
  for (const key in value) if ((value as Record<string, unknown>)[key] !== undefined) return true;
  return false;
}

/**
 * Writes into `text`, in order; one writer per document. What starts each entry (the line break,
 * indentation, `- ` or key and `:`) is made once per level and key: a pipeline repeats them.
 */
class Writer {
  text = '';
  /** Whether the last scalar written leaves the document open (js-yaml then ends it with `...`). */
  openEnded = false;
  private readonly newlines: string[] = [];
  /** By level: the line break, indentation and `- ` that start a sequence's item. */
  private readonly itemStarts: string[] = [];
  /** By level: the line break, indentation, key and `:` that start a mapping's entry, by key. */
  private readonly keyStarts: Map<string, string>[] = [];

  /**
   * `value` at `level` (js-yaml's nesting level: a mapping's values and a sequence's items are one
   * deeper than it). A block collection starts each entry on a new line, but for the first when
   * `compact` (a sequence item, the document itself).
   */
  value(value: unknown, level: number, compact: boolean): void {
    if (typeof value === 'string') this.text += this.string(value, level, false);
    else if (value instanceof LiteralBlock) this.text += this.literalBlock(value.text, level);
    else if (value instanceof StyledString) {
      this.openEnded = false;
      this.text += value.yaml;
    } else if (Array.isArray(value)) this.sequence(value, level, compact);
    else if (typeof value === 'object' && value !== null) {
      if (!isPlainObject(value)) throw UNCOVERED;
      this.mapping(value, level, compact);
    } else this.text += this.scalar(value);
  }

  private newline(level: number): string {
    return (this.newlines[level] ??= `\n${'  '.repeat(level)}`);
  }

  private sequence(items: readonly unknown[], level: number, compact: boolean): void {
    if (items.length === 0) {
      this.openEnded = false;
      this.text += '[]';
      return;
    }
    const itemStart = (this.itemStarts[level] ??= `${this.newline(level)}- `);
    for (let i = 0; i < items.length; i++) {
      this.text += !compact || i > 0 ? itemStart : '- ';
      this.value(items[i] === undefined ? null : items[i], level + 1, true);
    }
  }

  private mapping(object: Record<string, unknown>, level: number, compact: boolean): void {
    let first = true;
    const keyStarts = (this.keyStarts[level] ??= new Map());
    // `for...in` reads the keys in `Object.keys` order without making an array of them.
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const value = object[key];
      if (value === undefined) continue; // js-yaml leaves such pairs out
      if (!compact || !first) {
        let start = keyStarts.get(key);
        if (start === undefined) {
          start = `${this.newline(level)}${this.key(key, level)}:`;
          keyStarts.set(key, start);
        }
        this.text += start;
      } else this.text += `${this.key(key, level)}:`;
      first = false;
      if (!isBlockCollection(value)) this.text += ' ';
      this.value(value, level + 1, false);
    }
    if (first) {
      this.openEnded = false;
      this.text += '{}';
    }
  }

  private key(key: string, level: number): string {
    // An explicit key (`? `) is js-yaml's business.
    if (key.length > 1024 || key.includes('\n')) throw UNCOVERED;
    return this.string(key, level + 1, true);
  }

  private scalar(value: unknown): string {
    this.openEnded = false;
    if (typeof value === 'number')
      return Number.isSafeInteger(value) && !Object.is(value, -0)
        ? String(value)
        : scalarByJsYaml(value);
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (value === null) return 'null';
    throw UNCOVERED;
  }

  private string(value: string, level: number, isKey: boolean): string {
    this.openEnded = false;
    const styled =
      value.length <= MAX_REMEMBERED_STYLE
        ? styledStrings.get(value, () => styleOf(value))
        : styleOf(value);
    // On one line js-yaml styles a scalar alike at every level below the top, as a key or a
    // value. On several, it writes a literal block where it can (then indented for its level),
    // else one double-quoted line; which of the two does not depend on the level.
    if (!styled.startsWith('|')) return styled;
    if (isKey) throw UNCOVERED;
    return this.literalBlock(value, level);
  }

  /** js-yaml's literal block scalar for `text` at `level`. */
  private literalBlock(text: string, level: number): string {
    const indent = '  '.repeat(Math.max(1, level));
    // An indentation indicator when the text starts with a space (after blank lines).
    const indicator = /^\n* /.test(text) ? (level === 0 ? '3' : '2') : '';
    const clip = text.endsWith('\n');
    const chomp = clip && (text.endsWith('\n\n') || text === '\n') ? '+' : clip ? '' : '-';
    this.openEnded = text === '\n' || text.endsWith('\n\n');
    // Every line but an empty one is indented; the text's last line break is the scalar's own.
    const body = (text.endsWith('\n') ? text.slice(0, -1) : text).replace(
      BREAK_BEFORE_TEXT,
      `\n${indent}`,
    );
    return `|${indicator}${chomp}\n${body === '' || body.startsWith('\n') ? '' : indent}${body}`;
  }
}

/**
 * How js-yaml writes a string below the top of a document: on one line as this says, or as a
 * literal block when this starts with `|`.
 */
function styleOf(value: string): string {
  return SIMPLE_WORD.test(value) && DUMP_SCHEMA.resolveImplicitScalarTag(value).tag === STRING_TAG
    ? value
    : scalarByJsYaml(value);
}

/**
 * `styleOf` the strings a pipeline holds, asked once while remembered: pipelines, and a notebook's
 * successive compiles, repeat their keys, names and values. Long texts are styled where they occur.
 */
const styledStrings = new BoundedCache<string>(8192);
const MAX_REMEMBERED_STYLE = 256;

/** A line break followed by a line that holds text. */
const BREAK_BEFORE_TEXT = /\n(?=[^\n])/g;

/** How js-yaml writes `value` below the top of a document, when it writes it on one line. */
function scalarByJsYaml(value: string | number): string {
  return dump({ v: value }, DUMP_OPTIONS).slice('v: '.length, -1);
}

/** `value` with its literal blocks as the texts they hold, for js-yaml. */
function plainData(value: unknown): unknown {
  if (value instanceof LiteralBlock) return value.text;
  if (value instanceof StyledString) return value.value;
  if (Array.isArray(value)) return value.map(plainData);
  if (typeof value === 'object' && value !== null && isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainData(v)]));
  return value;
}
