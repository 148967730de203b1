/**
 * The tokenizer of the fast Python front end (fast-python-parser.ts): one pass over a cell's text
 * into flat arrays of tokens, as core's Lezer grammar (grammar/python.grammar, with the external
 * tokenizers of grammar/python-tokens.ts) splits the same text. Indentation follows Lezer's rules,
 * not CPython's: indentation only matters inside an indented block (a line indented more than a
 * top-level statement is accepted, as Lezer accepts it), and a block's `INDENT` only follows a
 * line ending in `:`. Comments are kept apart, by position, for the parser to place.
 *
 * Whatever it does not reproduce exactly (a carriage return, an unterminated string, a character
 * no token takes, an inconsistent dedent, nesting near the limits) throws `GIVE_UP`, and the
 * caller parses with Lezer instead.
 */

/** Thrown (and caught by fastParsePython) when the fast front end does not handle a text. */
export const GIVE_UP = new Error('the fast Python front end leaves this text to Lezer');

// Token kinds. Keywords and named punctuation use their node type's id in the generated parser
// (python-parser.terms.generated.ts); the others are numbered from 300.
export const Tok = {
  Star: 6,
  DoubleStar: 16,
  At: 14,
  Await: 21,
  RParen: 22,
  LParen: 23,
  Or: 26,
  And: 27,
  In: 29,
  Not: 30,
  Is: 31,
  If: 34,
  Else: 35,
  Lambda: 37,
  Comma: 41,
  Colon: 42,
  Yield: 46,
  From: 47,
  Async: 50,
  For: 51,
  RBracket: 53,
  LBracket: 54,
  RBrace: 57,
  LBrace: 58,
  Dot: 67,
  Ellipsis: 79,
  None: 80,
  Boolean: 81,
  Del: 88,
  Pass: 90,
  Break: 92,
  Continue: 94,
  Return: 96,
  Raise: 99,
  Import: 101,
  As: 102,
  Global: 104,
  Nonlocal: 105,
  Assert: 107,
  Semicolon: 113,
  Elif: 116,
  While: 118,
  Try: 121,
  Except: 122,
  Finally: 123,
  With: 125,
  Def: 127,
  Class: 133,

  Eof: 300,
  Newline: 301,
  Indent: 302,
  Dedent: 303,
  Name: 304,
  Number: 305,
  Assign: 306,
  Walrus: 307,
  Arrow: 308,
  Compare: 309,
  Update: 310,
  Plus: 311,
  Minus: 312,
  Tilde: 313,
  Slash: 314,
  DoubleSlash: 315,
  Percent: 316,
  Pipe: 317,
  Caret: 318,
  Amp: 319,
  ShiftLeft: 320,
  ShiftRight: 321,
  /** A string's start (prefix and quotes); `formatStart` for an f-string. */
  StringStart: 322,
  FormatStart: 323,
  Escape: 324,
  /** `{` opening a replacement field in an f-string's text. */
  FieldStart: 325,
  StringEnd: 326,
  /** `!r`, `!s`, `!a` in a replacement field. */
  Conversion: 327,
  /** `:` or `:=` opening a replacement field's format spec. */
  SpecStart: 328,
  SpecStartWalrus: 329,
  SpecChars: 330,
  /** `{` opening a replacement field nested in a format spec. */
  SpecFieldStart: 331,
} as const;

const KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['await', Tok.Await],
  ['or', Tok.Or],
  ['and', Tok.And],
  ['in', Tok.In],
  ['not', Tok.Not],
  ['is', Tok.Is],
  ['if', Tok.If],
  ['else', Tok.Else],
  ['lambda', Tok.Lambda],
  ['yield', Tok.Yield],
  ['from', Tok.From],
  ['async', Tok.Async],
  ['for', Tok.For],
  ['None', Tok.None],
  ['True', Tok.Boolean],
  ['False', Tok.Boolean],
  ['del', Tok.Del],
  ['pass', Tok.Pass],
  ['break', Tok.Break],
  ['continue', Tok.Continue],
  ['return', Tok.Return],
  ['raise', Tok.Raise],
  ['import', Tok.Import],
  ['as', Tok.As],
  ['global', Tok.Global],
  ['nonlocal', Tok.Nonlocal],
  ['assert', Tok.Assert],
  ['elif', Tok.Elif],
  ['while', Tok.While],
  ['try', Tok.Try],
  ['except', Tok.Except],
  ['finally', Tok.Finally],
  ['with', Tok.With],
  ['def', Tok.Def],
  ['class', Tok.Class],
]);

/** The keywords by their first letter's code, to look a word up without slicing it out. */
const KEYWORDS_BY_FIRST: (readonly [string, number][] | undefined)[] = [];
for (const [word, kind] of KEYWORDS)
  ((KEYWORDS_BY_FIRST[word.charCodeAt(0)] ??= []) as [string, number][]).push([word, kind]);

/** The keyword token of the word of `length` at `start`, if it is one. */
function keywordAt(code: string, start: number, length: number): number | undefined {
  const candidates = KEYWORDS_BY_FIRST[code.charCodeAt(start)];
  if (candidates === undefined) return undefined;
  for (const [word, kind] of candidates)
    if (word.length === length && code.startsWith(word, start)) return kind;
  return undefined;
}

/**
 * Most brackets open at once handled, replacement fields' braces included (CPython's limit is
 * 200, parse-python.ts reports past it).
 */
const MAX_BRACKETS = 100;
/** Deepest block nesting handled (CPython refuses 100 levels). */
const MAX_BLOCKS = 50;

/**
 * The tokens of one text. The arrays are shared scratch space, valid until the next
 * `tokenizePython`; `count` of their entries are written.
 */
export interface Tokens {
  readonly count: number;
  readonly kind: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Comment offsets, in order: start, end, start, end, ... */
  readonly comments: readonly number[];
}

const Ch = {
  Tab: 9,
  Newline: 10,
  FormFeed: 12,
  Return: 13,
  Space: 32,
  Bang: 33,
  DoubleQuote: 34,
  Hash: 35,
  Percent: 37,
  Amp: 38,
  Quote: 39,
  LParen: 40,
  RParen: 41,
  Star: 42,
  Plus: 43,
  Comma: 44,
  Minus: 45,
  Dot: 46,
  Slash: 47,
  Zero: 48,
  Seven: 55,
  Nine: 57,
  Colon: 58,
  Semicolon: 59,
  Less: 60,
  Equals: 61,
  Greater: 62,
  At: 64,
  LBracket: 91,
  Backslash: 92,
  RBracket: 93,
  Caret: 94,
  Underscore: 95,
  LBrace: 123,
  Pipe: 124,
  RBrace: 125,
  Tilde: 126,
} as const;

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === Ch.Underscore || c >= 0xa1;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

// String flags.
const LONG = 1,
  RAW = 2,
  FORMAT = 4;

/** What the tokenizer is inside of, innermost last. */
const Frame = {
  /** A replacement field of an f-string: code, ending at its `}`. */
  Field: 0,
  /** A replacement field's format spec: text, nested fields, ending at `}`. */
  Spec: 1,
} as const;

/** One tokenization's state; `tokenizePython` is the entry. */
class Tokenizer {
  private readonly len: number;
  private kind = scratch.kind;
  private start = scratch.start;
  private end = scratch.end;
  private count = 0;
  private readonly comments: number[] = [];
  /** Open brackets at each field level (index 0: the code outside any f-string). */
  private readonly brackets: number[] = [0];
  private readonly frames: number[] = [];
  /** Indentation of each open block; the first entry is the top level. */
  private readonly indents: number[] = [0];
  /** Brackets and replacement fields open, at every level. */
  private open = 0;
  private pos = 0;
  /** The last token before a newline, to tell a block header. */
  private last = -1;

  constructor(private readonly code: string) {
    this.len = code.length;
  }

  run(): Tokens {
    if (this.code.indexOf('\r') >= 0) throw GIVE_UP;
    this.lineStart(false);
    this.code_(0);
    this.push(Tok.Eof, this.len, this.len);
    return {
      count: this.count,
      kind: this.kind,
      start: this.start,
      end: this.end,
      comments: this.comments,
    };
  }

  private push(k: number, s: number, e: number): void {
    if (this.count === this.kind.length) {
      const size = this.kind.length * 2;
      this.kind = grow(this.kind, size);
      this.start = grow(this.start, size);
      this.end = grow(this.end, size);
      scratch = { kind: this.kind, start: this.start, end: this.end };
    }
    this.kind[this.count] = k;
    this.start[this.count] = s;
    this.end[this.count] = e;
    this.count++;
    this.last = k;
  }

  /** At a line start outside brackets: blank lines, then indentation tokens. */
  private lineStart(header: boolean): void {
    for (;;) {
      let p = this.pos;
      let depth = 0;
      for (;;) {
        const c = this.code.charCodeAt(p);
        if (c === Ch.Space) depth++;
        else if (c === Ch.Tab) depth += 8 - (depth % 8);
        else if (c === Ch.FormFeed) depth = 0;
        else break;
        p++;
      }
      const c = p < this.len ? this.code.charCodeAt(p) : -1;
      if (c === Ch.Newline) {
        this.pos = p + 1;
        continue;
      }
      // A line that starts with a continuation (`    \` then `return x`): Lezer judges its
      // indentation by the next line, Python by this one. Lezer's reading is the one to give.
      if (c === Ch.Backslash) throw GIVE_UP;
      if (c === Ch.Hash) {
        let e = p;
        while (e < this.len && this.code.charCodeAt(e) !== Ch.Newline) e++;
        if (this.code.charCodeAt(e - 1) === Ch.Return) throw GIVE_UP;
        this.comments.push(p, e);
        if (e >= this.len) {
          this.pos = e;
          depth = -1; // the end: no indentation to judge
        } else {
          this.pos = e + 1;
          continue;
        }
      } else this.pos = p;
      if (depth < 0) return;
      if (header) {
        if (c < 0 || depth <= this.indents[this.indents.length - 1]!) throw GIVE_UP;
        if (this.indents.push(depth) > MAX_BLOCKS) throw GIVE_UP;
        this.push(Tok.Indent, p, p);
        return;
      }
      while (this.indents.length > 1 && depth < this.indents[this.indents.length - 1]!) {
        this.indents.pop();
        this.push(Tok.Dedent, p, p);
      }
      if (this.indents.length > 1 && depth !== this.indents[this.indents.length - 1]) throw GIVE_UP;
      return;
    }
  }

  /** The content of a string from `pos` (after its opening quotes) to its end. */
  private stringBody(flags: number, quote: number): void {
    const long = (flags & LONG) !== 0;
    const raw = (flags & RAW) !== 0;
    const format = (flags & FORMAT) !== 0;
    for (;;) {
      if (this.pos >= this.len) throw GIVE_UP;
      const c = this.code.charCodeAt(this.pos);
      if (c === quote) {
        if (!long) {
          this.push(Tok.StringEnd, this.pos, this.pos + 1);
          this.pos++;
          return;
        }
        if (
          this.code.charCodeAt(this.pos + 1) === quote &&
          this.code.charCodeAt(this.pos + 2) === quote
        ) {
          this.push(Tok.StringEnd, this.pos, this.pos + 3);
          this.pos += 3;
          return;
        }
        this.pos++;
      } else if (c === Ch.Backslash) {
        if (raw) {
          if (this.pos + 1 >= this.len) throw GIVE_UP;
          if (this.code.charCodeAt(this.pos + 1) === Ch.Return) throw GIVE_UP;
          this.pos += 2;
          continue;
        }
        const s = this.pos;
        this.pos++;
        if (this.pos >= this.len) throw GIVE_UP;
        const escaped = this.code.charCodeAt(this.pos++);
        if (escaped === Ch.Return) throw GIVE_UP;
        this.skipEscape(escaped);
        this.push(Tok.Escape, s, this.pos);
      } else if (c === Ch.Newline) {
        if (!long) throw GIVE_UP;
        this.pos++;
      } else if (c === Ch.Return) {
        throw GIVE_UP;
      } else if (format && c === Ch.LBrace) {
        if (this.code.charCodeAt(this.pos + 1) === Ch.LBrace) {
          this.pos += 2;
          continue;
        }
        this.push(Tok.FieldStart, this.pos, this.pos + 1);
        this.pos++;
        this.field();
      } else this.pos++;
    }
  }

  private skipEscape(c: number): void {
    let n = 0;
    if (c === 111 /* o */) {
      while (
        n < 2 &&
        this.code.charCodeAt(this.pos) >= Ch.Zero &&
        this.code.charCodeAt(this.pos) <= Ch.Seven
      ) {
        this.pos++;
        n++;
      }
    } else if (c === 120 /* x */ || c === 117 /* u */ || c === 85 /* U */) {
      const max = c === 120 ? 2 : c === 117 ? 4 : 8;
      while (n < max && isHex(this.code.charCodeAt(this.pos))) {
        this.pos++;
        n++;
      }
    } else if (c === 78 /* N */ && this.code.charCodeAt(this.pos) === Ch.LBrace) {
      this.pos++;
      for (;;) {
        if (this.pos >= this.len) return;
        const d = this.code.charCodeAt(this.pos);
        if (d === Ch.RBrace) {
          this.pos++;
          return;
        }
        if (d === Ch.Quote || d === Ch.DoubleQuote || d === Ch.Newline) return;
        this.pos++;
      }
    }
  }

  /** A replacement field's code (from after its `{`), through its closing `}`. */
  private field(): void {
    if (++this.open > MAX_BRACKETS) throw GIVE_UP;
    this.brackets.push(0);
    this.frames.push(Frame.Field);
    const depth = this.frames.length;
    this.code_(depth);
    // code_ returns at the field's end: `}` or a format spec.
    if (this.frames.length === depth + 1) {
      // A format spec: text and nested fields up to `}`.
      for (;;) {
        if (this.pos >= this.len) throw GIVE_UP;
        const c = this.code.charCodeAt(this.pos);
        if (c === Ch.RBrace) {
          this.push(Tok.RBrace, this.pos, this.pos + 1);
          this.pos++;
          break;
        }
        if (c === Ch.LBrace) {
          this.push(Tok.SpecFieldStart, this.pos, this.pos + 1);
          this.pos++;
          this.field();
          continue;
        }
        const s = this.pos;
        while (this.pos < this.len) {
          const d = this.code.charCodeAt(this.pos);
          if (d === Ch.LBrace || d === Ch.RBrace) break;
          if (d === Ch.Return) throw GIVE_UP;
          this.pos++;
        }
        this.push(Tok.SpecChars, s, this.pos);
      }
      this.frames.pop();
    }
    this.frames.pop();
    this.brackets.pop();
    this.open--;
  }

  /**
   * Code tokens from `pos` until the end (`depth` 0) or until the replacement field at frame
   * depth `depth` ends: after its `}` (frames back at depth - 1... left for field() to pop) or at
   * its format spec (a Spec frame pushed).
   */
  private code_(depth: number): void {
    for (;;) {
      if (this.pos >= this.len) {
        if (depth > 0) throw GIVE_UP;
        return;
      }
      const c = this.code.charCodeAt(this.pos);
      const s = this.pos;
      const level = this.brackets.length - 1;
      switch (c) {
        case Ch.Space:
        case Ch.Tab:
        case Ch.FormFeed:
          this.pos++;
          continue;
        case Ch.Backslash: {
          if (this.code.charCodeAt(this.pos + 1) !== Ch.Newline) throw GIVE_UP;
          this.pos += 2;
          if (depth === 0 && this.brackets[0] === 0) {
            // Lezer reads a blank line after a continuation as a blank line.
            let p = this.pos;
            while (p < this.len) {
              const d = this.code.charCodeAt(p);
              if (d !== Ch.Space && d !== Ch.Tab && d !== Ch.FormFeed) break;
              p++;
            }
            const d = p < this.len ? this.code.charCodeAt(p) : -1;
            if (d === Ch.Newline || d === Ch.Hash || d < 0) throw GIVE_UP;
          }
          continue;
        }
        case Ch.Newline:
          this.pos++;
          if (depth === 0 && this.brackets[0] === 0) {
            const header = this.last === Tok.Colon;
            this.push(Tok.Newline, s, this.pos);
            this.lineStart(header);
          }
          continue;
        case Ch.Return:
          throw GIVE_UP;
        case Ch.Hash: {
          let e = this.pos;
          while (e < this.len && this.code.charCodeAt(e) !== Ch.Newline) e++;
          if (this.code.charCodeAt(e - 1) === Ch.Return) throw GIVE_UP;
          this.comments.push(this.pos, e);
          this.pos = e;
          continue;
        }
        case Ch.LParen:
        case Ch.LBracket:
        case Ch.LBrace:
          if (++this.open > MAX_BRACKETS) throw GIVE_UP;
          this.brackets[level]!++;
          this.push(
            c === Ch.LParen ? Tok.LParen : c === Ch.LBracket ? Tok.LBracket : Tok.LBrace,
            s,
            s + 1,
          );
          this.pos++;
          continue;
        case Ch.RParen:
        case Ch.RBracket:
        case Ch.RBrace:
          if (this.brackets[level] === 0) {
            if (c === Ch.RBrace && depth > 0 && this.frames[depth - 1] === Frame.Field) {
              this.push(Tok.RBrace, s, s + 1);
              this.pos++;
              return;
            }
            throw GIVE_UP;
          }
          this.brackets[level]!--;
          this.open--;
          this.push(
            c === Ch.RParen ? Tok.RParen : c === Ch.RBracket ? Tok.RBracket : Tok.RBrace,
            s,
            s + 1,
          );
          this.pos++;
          continue;
        case Ch.Colon:
          if (depth > 0 && this.brackets[level] === 0) {
            // A format spec starts.
            if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) {
              this.push(Tok.SpecStartWalrus, s, s + 2);
              this.pos += 2;
            } else {
              this.push(Tok.SpecStart, s, s + 1);
              this.pos++;
            }
            this.frames.push(Frame.Spec);
            return;
          }
          if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) {
            this.push(Tok.Walrus, s, s + 2);
            this.pos += 2;
          } else {
            this.push(Tok.Colon, s, s + 1);
            this.pos++;
          }
          continue;
        case Ch.Quote:
        case Ch.DoubleQuote:
          this.stringAt(s, this.pos, 0);
          continue;
        case Ch.Dot:
          if (isDigit(this.code.charCodeAt(this.pos + 1))) {
            this.number();
            continue;
          }
          if (
            this.code.charCodeAt(this.pos + 1) === Ch.Dot &&
            this.code.charCodeAt(this.pos + 2) === Ch.Dot
          ) {
            this.push(Tok.Ellipsis, s, s + 3);
            this.pos += 3;
          } else {
            this.push(Tok.Dot, s, s + 1);
            this.pos++;
          }
          continue;
        case Ch.Comma:
          this.push(Tok.Comma, s, s + 1);
          this.pos++;
          continue;
        case Ch.Semicolon:
          this.push(Tok.Semicolon, s, s + 1);
          this.pos++;
          continue;
        case Ch.Tilde:
          this.push(Tok.Tilde, s, s + 1);
          this.pos++;
          continue;
        case Ch.Bang: {
          const d = this.code.charCodeAt(this.pos + 1);
          if (d === Ch.Equals) this.op(Tok.Compare, 2);
          else if (d === 115 || d === 114 || d === 97) this.op(Tok.Conversion, 2);
          else throw GIVE_UP;
          continue;
        }
        case Ch.Equals:
          if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) this.op(Tok.Compare, 2);
          else this.op(Tok.Assign, 1);
          continue;
        case Ch.Less:
        case Ch.Greater: {
          const d = this.code.charCodeAt(this.pos + 1);
          if (d === c) {
            if (this.code.charCodeAt(this.pos + 2) === Ch.Equals) this.op(Tok.Update, 3);
            else this.op(c === Ch.Less ? Tok.ShiftLeft : Tok.ShiftRight, 2);
          } else if (d === Ch.Equals || (c === Ch.Less && d === Ch.Greater))
            this.op(Tok.Compare, 2);
          else this.op(Tok.Compare, 1);
          continue;
        }
        case Ch.Star:
          if (this.code.charCodeAt(this.pos + 1) === Ch.Star) {
            if (this.code.charCodeAt(this.pos + 2) === Ch.Equals) this.op(Tok.Update, 3);
            else this.op(Tok.DoubleStar, 2);
          } else if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) this.op(Tok.Update, 2);
          else this.op(Tok.Star, 1);
          continue;
        case Ch.Slash:
          if (this.code.charCodeAt(this.pos + 1) === Ch.Slash) {
            if (this.code.charCodeAt(this.pos + 2) === Ch.Equals) this.op(Tok.Update, 3);
            else this.op(Tok.DoubleSlash, 2);
          } else if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) this.op(Tok.Update, 2);
          else this.op(Tok.Slash, 1);
          continue;
        case Ch.Minus:
          if (this.code.charCodeAt(this.pos + 1) === Ch.Greater) this.op(Tok.Arrow, 2);
          else if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) this.op(Tok.Update, 2);
          else this.op(Tok.Minus, 1);
          continue;
        case Ch.Plus:
        case Ch.At:
        case Ch.Percent:
        case Ch.Amp:
        case Ch.Pipe:
        case Ch.Caret:
          if (this.code.charCodeAt(this.pos + 1) === Ch.Equals) this.op(Tok.Update, 2);
          else
            this.op(
              c === Ch.Plus
                ? Tok.Plus
                : c === Ch.At
                  ? Tok.At
                  : c === Ch.Percent
                    ? Tok.Percent
                    : c === Ch.Amp
                      ? Tok.Amp
                      : c === Ch.Pipe
                        ? Tok.Pipe
                        : Tok.Caret,
              1,
            );
          continue;
        default:
          if (isDigit(c)) {
            this.number();
            continue;
          }
          if (isIdentStart(c)) {
            this.word();
            continue;
          }
          throw GIVE_UP;
      }
    }
  }

  private op(k: number, n: number): void {
    this.push(k, this.pos, this.pos + n);
    this.pos += n;
  }

  /** A string literal whose prefix starts at `s` and whose quote is at `q`. */
  private stringAt(s: number, q: number, flags: number): void {
    const quote = this.code.charCodeAt(q);
    let f = flags;
    let p = q + 1;
    if (this.code.charCodeAt(q + 1) === quote && this.code.charCodeAt(q + 2) === quote) {
      f |= LONG;
      p = q + 3;
    }
    this.push(f & FORMAT ? Tok.FormatStart : Tok.StringStart, s, p);
    this.pos = p;
    this.stringBody(f, quote);
  }

  private word(): void {
    const s = this.pos;
    // String prefixes: u, b, r, f, and rb, br, rf, fr in either case.
    const c0 = this.code.charCodeAt(this.pos) | 32;
    const c1 = this.code.charCodeAt(this.pos + 1);
    if (c1 === Ch.Quote || c1 === Ch.DoubleQuote) {
      if (c0 === 117 || c0 === 98) return this.stringAt(s, this.pos + 1, 0);
      if (c0 === 114) return this.stringAt(s, this.pos + 1, RAW);
      if (c0 === 102) return this.stringAt(s, this.pos + 1, FORMAT);
    } else {
      const c2 = this.code.charCodeAt(this.pos + 2);
      if (c2 === Ch.Quote || c2 === Ch.DoubleQuote) {
        const l1 = c1 | 32;
        if ((c0 === 114 && l1 === 98) || (c0 === 98 && l1 === 114))
          return this.stringAt(s, this.pos + 2, RAW);
        if ((c0 === 114 && l1 === 102) || (c0 === 102 && l1 === 114))
          return this.stringAt(s, this.pos + 2, RAW | FORMAT);
      }
    }
    this.pos++;
    while (this.pos < this.len && isIdentChar(this.code.charCodeAt(this.pos))) this.pos++;
    const k = this.pos - s <= 8 ? keywordAt(this.code, s, this.pos - s) : undefined;
    this.push(k ?? Tok.Name, s, this.pos);
  }

  private digits(p: number): number {
    // (@digit ("_" | @digit)*): p must be at a digit.
    while (p < this.len) {
      const c = this.code.charCodeAt(p);
      if (isDigit(c) || c === Ch.Underscore) p++;
      else break;
    }
    return p;
  }

  private number(): void {
    const s = this.pos;
    let p = this.pos;
    const c0 = this.code.charCodeAt(p);
    const c1 = this.code.charCodeAt(p + 1) | 32;
    if (c0 === Ch.Zero && (c1 === 98 || c1 === 111 || c1 === 120)) {
      let q = p + 2;
      while (q < this.len) {
        const c = this.code.charCodeAt(q);
        const ok =
          c === Ch.Underscore ||
          (c1 === 98
            ? c === Ch.Zero || c === 49
            : c1 === 111
              ? c >= Ch.Zero && c <= Ch.Seven
              : isHex(c));
        if (!ok) break;
        q++;
      }
      if (q > p + 2) {
        this.push(Tok.Number, s, q);
        this.pos = q;
        return;
      }
    }
    if (c0 === Ch.Dot) p = this.digits(p + 1);
    else {
      p = this.digits(p);
      if (this.code.charCodeAt(p) === Ch.Dot) {
        p++;
        if (isDigit(this.code.charCodeAt(p))) p = this.digits(p);
      }
    }
    const e = this.code.charCodeAt(p) | 32;
    if (e === 101) {
      let q = p + 1;
      const sign = this.code.charCodeAt(q);
      if (sign === Ch.Plus || sign === Ch.Minus) q++;
      if (isDigit(this.code.charCodeAt(q))) p = this.digits(q);
    }
    if ((this.code.charCodeAt(p) | 32) === 106) p++;
    this.push(Tok.Number, s, p);
    this.pos = p;
  }
}

export function tokenizePython(code: string): Tokens {
  return new Tokenizer(code).run();
}

function grow(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(size);
  grown.set(array);
  return grown;
}

/** Token arrays reused by every tokenization (a parse copies out what it keeps). */
let scratch = {
  kind: new Int32Array(1 << 14),
  start: new Int32Array(1 << 14),
  end: new Int32Array(1 << 14),
};
