/**
 * The expressions of the fast Python front end (fast-python-parser.ts is its entry): the parse
 * state, the tree buffer, and Python's expressions by precedence climbing, with Lezer's own
 * readings (`not` and `await` take everything after them at their level). Nodes are written as
 * Lezer's postfix records (type, from, to, size) once their last token is read: a node spans its
 * first to its last token, and a comment goes into the innermost node open around it.
 */
import { GIVE_UP, Tok, type Tokens } from './fast-python-tokens.js';
import { NodeId } from './fast-python-nodes.js';

/** Longest operator chain (`a + b + ...`, `a.b.c...`) handled; parse-python.ts judges longer. */
const MAX_CHAIN = 500;
/** Deepest recursion handled (nested expressions); Lezer's path judges deeper code. */
const MAX_DEPTH = 150;

/** Binary operators of `expression`, by precedence (higher binds tighter). */
function binaryLevel(k: number): number {
  switch (k) {
    case Tok.Pipe:
      return 1;
    case Tok.Caret:
      return 2;
    case Tok.Amp:
      return 3;
    case Tok.ShiftLeft:
    case Tok.ShiftRight:
      return 4;
    case Tok.Plus:
    case Tok.Minus:
      return 5;
    case Tok.Star:
    case Tok.At:
    case Tok.Slash:
    case Tok.DoubleSlash:
    case Tok.Percent:
      return 6;
    default:
      return 0;
  }
}

/** Whether a token can start a `test` (or a `*` item, which callers check themselves). */
export function startsTest(k: number): boolean {
  switch (k) {
    case Tok.Name:
    case Tok.Number:
    case Tok.StringStart:
    case Tok.FormatStart:
    case Tok.LParen:
    case Tok.LBracket:
    case Tok.LBrace:
    case Tok.Minus:
    case Tok.Plus:
    case Tok.Tilde:
    case Tok.Ellipsis:
    case Tok.None:
    case Tok.Boolean:
    case Tok.Not:
    case Tok.Lambda:
    case Tok.Await:
      return true;
    default:
      return false;
  }
}

/** Whether a character can start a word (a keyword after `.` is a property name). */
function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0xa1;
}

/** The parse state and expressions; the statement parser extends it. */
export class ExpressionParser {
  protected readonly kind: Int32Array;

  protected readonly tstart: Int32Array;

  protected readonly tend: Int32Array;

  protected readonly comments: readonly number[];

  protected readonly count: number;
  protected p = 0;
  protected ci = 0;
  protected lastEnd = 0;
  protected depth = 0;

  /** The tree as Lezer's postfix buffer: type, from, to, size (4 × nodes in the subtree). */
  buf = scratch;
  /** How much of `buf` is written. */
  n = 0;

  constructor(
    private readonly code: string,
    tokens: Tokens,
  ) {
    this.kind = tokens.kind;
    this.tstart = tokens.start;
    this.tend = tokens.end;
    this.comments = tokens.comments;
    this.count = tokens.count;
  }

  // ---- buffer ----------------------------------------------------------------------------------

  protected t(): number {
    return this.kind[this.p]!;
  }

  protected peek(n: number): number {
    const i = this.p + n;
    return i < this.count ? this.kind[i]! : Tok.Eof;
  }

  /** Whether the current token is `word`. */
  protected is(word: string): boolean {
    const s = this.tstart[this.p]!;
    return this.tend[this.p]! - s === word.length && this.code.startsWith(word, s);
  }

  /** Writes the comments before the current token into the buffer. */
  protected flush(): void {
    const at = this.tstart[this.p]!;
    const c = this.comments;
    while (this.ci < c.length && c[this.ci]! < at) {
      this.record(NodeId.Comment, c[this.ci]!, c[this.ci + 1]!, 4);
      this.ci += 2;
    }
  }

  protected record(type: number, from: number, to: number, size: number): void {
    let b = this.buf;
    const n = this.n;
    if (n + 4 > b.length) {
      const grown = new Int32Array(b.length * 2);
      grown.set(b);
      this.buf = b = scratch = grown;
    }
    b[n] = type;
    b[n + 1] = from;
    b[n + 2] = to;
    b[n + 3] = size;
    this.n = n + 4;
  }

  /** Where a node starting at the current token begins in the buffer. */
  protected mark(): number {
    this.flush();
    return this.n;
  }

  /** Consumes the current token without a node. */
  protected skip(): void {
    this.flush();
    const e = this.tend[this.p]!;
    if (e > this.tstart[this.p]!) this.lastEnd = e;
    this.p++;
  }

  /** Consumes a zero-length token (indentation, the end); comments stay where they are. */
  protected skipEmpty(): void {
    this.p++;
  }

  /** Consumes the current token as a leaf node of `type`. */
  protected leaf(type: number): void {
    this.flush();
    const s = this.tstart[this.p]!;
    const e = this.tend[this.p]!;
    this.record(type, s, e, 4);
    this.lastEnd = e;
    this.p++;
  }

  /** Consumes the current token as a node of `outer` holding a node of `inner`. */
  protected leaf2(outer: number, inner: number): void {
    this.flush();
    const s = this.tstart[this.p]!;
    const e = this.tend[this.p]!;
    this.record(inner, s, e, 4);
    this.record(outer, s, e, 8);
    this.lastEnd = e;
    this.p++;
  }

  protected expect(k: number, type: number): void {
    if (this.kind[this.p] !== k) throw GIVE_UP;
    this.leaf(type);
  }

  protected finish(type: number, from: number, mark: number): void {
    this.record(type, from, this.lastEnd, this.n - mark + 4);
  }

  protected from(): number {
    return this.tstart[this.p]!;
  }

  protected enter(): void {
    if (++this.depth > MAX_DEPTH) throw GIVE_UP;
  }

  // ---- statements ------------------------------------------------------------------------------

  /** `commaSep<"*" expression | test>` */
  protected expressions(): void {
    this.commaSep(() => this.testOrStar(), true);
  }

  protected testOrStar(): void {
    if (this.t() === Tok.Star) {
      this.leaf(NodeId.Star);
      this.expression();
    } else this.test();
  }

  /**
   * `item ("," item)* ","?`; with `trailing`, a comma may end the list when no test follows;
   * otherwise the list ends at a comma only before what cannot start an item.
   */
  protected commaSep(item: () => void, tests: boolean): void {
    item();
    while (this.t() === Tok.Comma) {
      this.leaf(NodeId.Comma);
      const k = this.t();
      if (tests ? !(startsTest(k) || k === Tok.Star) : !this.startsItem(k)) return;
      item();
    }
  }

  protected startsItem(k: number): boolean {
    return startsTest(k) || k === Tok.Star || k === Tok.DoubleStar;
  }

  protected yieldBody(): void {
    this.leaf(Tok.Yield);
    if (this.t() === Tok.From) {
      this.leaf(Tok.From);
      this.test();
    } else if (startsTest(this.t()) || this.t() === Tok.Star)
      this.commaSep(() => this.testOrStar(), true);
  }

  protected yieldExpression(): void {
    const m = this.mark();
    const from = this.from();
    this.yieldBody();
    this.finish(NodeId.YieldExpression, from, m);
  }

  // ---- expressions -----------------------------------------------------------------------------

  /** `testNamed`: a test, or `test := test`. */
  protected testNamed(): void {
    const m = this.mark();
    const from = this.from();
    this.test();
    if (this.t() === Tok.Walrus) {
      this.leaf(NodeId.WalrusOp);
      this.test();
      this.finish(NodeId.NamedExpression, from, m);
    }
  }

  protected test(): void {
    this.enter();
    if (this.t() === Tok.Lambda) this.lambda(NodeId.LambdaExpression, false);
    else {
      const m = this.mark();
      const from = this.from();
      this.testInner(1);
      if (this.t() === Tok.If) {
        this.leaf(Tok.If);
        this.testInner(1);
        this.expect(Tok.Else, Tok.Else);
        this.test();
        this.finish(NodeId.ConditionalExpression, from, m);
      }
    }
    this.depth--;
  }

  protected testNoCond(): void {
    if (this.t() === Tok.Lambda) {
      this.enter();
      this.lambda(NodeId.LambdaNoCond, true);
      this.depth--;
    } else this.testInner(1);
  }

  protected lambda(type: number, noCond: boolean): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Lambda);
    if (this.t() === Tok.Colon) {
      // Lezer places an empty parameter list where the `:` starts.
      const at = this.from();
      this.record(NodeId.LambdaParamList, at, at, 4);
    } else {
      const m2 = this.mark();
      const from2 = this.from();
      for (;;) {
        switch (this.t()) {
          case Tok.Name:
            this.leaf(NodeId.VariableName);
            if (this.t() === Tok.Assign) {
              this.leaf(NodeId.LambdaAssignOp);
              this.test();
            }
            break;
          case Tok.Star:
            this.leaf(NodeId.Star);
            if (this.t() === Tok.Name) this.leaf(NodeId.VariableName);
            break;
          case Tok.DoubleStar:
            this.leaf(NodeId.DoubleStar);
            this.expect(Tok.Name, NodeId.VariableName);
            break;
          case Tok.Slash:
            this.skip();
            break;
          default:
            throw GIVE_UP;
        }
        if (this.t() !== Tok.Comma) break;
        this.leaf(NodeId.Comma);
        if (this.t() === Tok.Colon) break;
      }
      this.finish(NodeId.LambdaParamList, from2, m2);
    }
    this.expect(Tok.Colon, NodeId.Colon);
    if (noCond) this.testNoCond();
    else this.test();
    this.finish(type, from, m);
  }

  /** `testInner`: `or`, `and`, `not` and comparisons over expressions, from `level` up. */
  protected testInner(level: number): void {
    const m = this.mark();
    const from = this.from();
    if (this.t() === Tok.Not) {
      // Lezer's `not` takes the whole test after it: `not a and b` is `not (a and b)`.
      this.enter();
      this.leaf(Tok.Not);
      this.testInner(1);
      this.finish(NodeId.UnaryTest, from, m);
      this.depth--;
    } else this.expression();
    let terms = 0;
    for (;;) {
      let l: number;
      switch (this.t()) {
        case Tok.Or:
          l = 1;
          break;
        case Tok.And:
          l = 2;
          break;
        case Tok.Compare:
        case Tok.In:
        case Tok.Is:
          l = 3;
          break;
        case Tok.Not:
          if (this.peek(1) !== Tok.In) throw GIVE_UP;
          l = 3;
          break;
        default:
          l = 0;
      }
      if (l < level || l === 0) return;
      if (++terms > MAX_CHAIN) throw GIVE_UP;
      switch (this.t()) {
        case Tok.Compare:
          this.leaf(NodeId.CompareOp);
          break;
        case Tok.Not:
          this.leaf(Tok.Not);
          this.leaf(Tok.In);
          break;
        case Tok.Is:
          this.leaf(Tok.Is);
          if (this.t() === Tok.Not) this.leaf(Tok.Not);
          break;
        default:
          this.leaf(this.t());
      }
      this.enter();
      this.testInner(l + 1);
      this.depth--;
      this.finish(NodeId.BinaryTest, from, m);
    }
  }

  /** `expression` with binary operators from `level` up (1: `|`, ..., 6: `*`). */
  protected expression(level = 1): void {
    const m = this.mark();
    const from = this.from();
    this.unary();
    let terms = 0;
    for (;;) {
      const k = this.t();
      const l = binaryLevel(k);
      if (l < level || l === 0) return;
      if (++terms > MAX_CHAIN) throw GIVE_UP;
      switch (k) {
        case Tok.Pipe:
          this.leaf(NodeId.BitOr);
          break;
        case Tok.Caret:
          this.leaf(NodeId.BitXor);
          break;
        case Tok.Amp:
          this.leaf(NodeId.BitAnd);
          break;
        case Tok.ShiftLeft:
        case Tok.ShiftRight:
          this.leaf(NodeId.BitShift);
          break;
        case Tok.Plus:
        case Tok.Minus:
          this.leaf(NodeId.ArithPlus);
          break;
        case Tok.Star:
          this.leaf2(NodeId.ArithTimes, NodeId.Star);
          break;
        case Tok.At:
          this.leaf2(NodeId.ArithTimes, NodeId.At);
          break;
        default:
          this.leaf(NodeId.ArithTimes);
      }
      this.enter();
      this.expression(l + 1);
      this.depth--;
      this.finish(NodeId.BinaryExpression, from, m);
    }
  }

  /** Prefix operators, `await`, and `**` (which binds tighter than a prefix on its left). */
  protected unary(): void {
    const k = this.t();
    if (k === Tok.Minus || k === Tok.Plus || k === Tok.Tilde) {
      const m = this.mark();
      const from = this.from();
      this.enter();
      this.leaf(k === Tok.Tilde ? NodeId.BitNot : NodeId.ArithPrefix);
      this.unary();
      this.depth--;
      return this.finish(NodeId.UnaryExpression, from, m);
    }
    if (k === Tok.Await) {
      // Lezer's `await` takes the whole arithmetic expression after it.
      const m = this.mark();
      const from = this.from();
      this.enter();
      this.leaf(Tok.Await);
      this.expression(1);
      this.depth--;
      return this.finish(NodeId.AwaitExpression, from, m);
    }
    const m = this.mark();
    const from = this.from();
    this.primary();
    if (this.t() === Tok.DoubleStar) {
      this.leaf2(NodeId.ArithPower, NodeId.DoubleStar);
      this.enter();
      this.unary();
      this.depth--;
      this.finish(NodeId.BinaryExpression, from, m);
    }
  }

  /** An atom and its trailers (calls, subscripts, attributes). */
  protected primary(): void {
    const m = this.mark();
    const from = this.from();
    this.atom();
    let trailers = 0;
    for (;;) {
      switch (this.t()) {
        case Tok.LParen:
          this.argList();
          this.finish(NodeId.CallExpression, from, m);
          break;
        case Tok.LBracket:
          this.subscript();
          this.finish(NodeId.MemberExpression, from, m);
          break;
        case Tok.Dot:
          this.leaf(NodeId.Dot);
          this.propertyName();
          this.finish(NodeId.MemberExpression, from, m);
          break;
        default:
          return;
      }
      if (++trailers > MAX_CHAIN) throw GIVE_UP;
    }
  }

  /** Any word after `.`, keywords included. */
  protected propertyName(): void {
    const k = this.t();
    if (k === Tok.Name || (k < 300 && isWordStart(this.code.charCodeAt(this.tstart[this.p]!))))
      this.leaf(NodeId.PropertyName);
    else throw GIVE_UP;
  }

  protected atom(): void {
    switch (this.t()) {
      case Tok.Name:
        return this.leaf(NodeId.VariableName);
      case Tok.Number:
        return this.leaf(NodeId.Number);
      case Tok.StringStart:
      case Tok.FormatStart:
        return this.strings();
      case Tok.Ellipsis:
      case Tok.None:
      case Tok.Boolean:
        return this.leaf(this.t());
      case Tok.LParen:
        return this.bracketed(() => this.parenthesized());
      case Tok.LBracket:
        return this.bracketed(() => this.list());
      case Tok.LBrace:
        return this.bracketed(() => this.braced());
      default:
        throw GIVE_UP;
    }
  }

  protected bracketed(parse: () => void): void {
    this.enter();
    parse();
    this.depth--;
  }

  protected strings(): void {
    const m = this.mark();
    const from = this.from();
    this.string();
    if (this.t() === Tok.StringStart || this.t() === Tok.FormatStart) {
      do this.string();
      while (this.t() === Tok.StringStart || this.t() === Tok.FormatStart);
      this.finish(NodeId.ContinuedString, from, m);
    }
  }

  protected string(): void {
    const m = this.mark();
    const from = this.from();
    const format = this.t() === Tok.FormatStart;
    this.skip();
    for (;;) {
      switch (this.t()) {
        case Tok.Escape:
          this.leaf(NodeId.Escape);
          continue;
        case Tok.FieldStart:
          this.enter();
          this.replacementField(NodeId.FieldBrace, NodeId.FormatReplacement, NodeId.FormatSelfDoc);
          this.depth--;
          continue;
        case Tok.StringEnd:
          this.skip();
          return this.finish(format ? NodeId.FormatString : NodeId.String, from, m);
        default:
          throw GIVE_UP;
      }
    }
  }

  protected replacementField(brace: number, type: number, selfDoc: number): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(brace);
    if (this.t() === Tok.Yield) this.yieldExpression();
    else
      this.commaSep(() => {
        if (this.t() === Tok.Star) this.leaf(NodeId.Star);
        this.test();
      }, true);
    if (this.t() === Tok.Assign) this.leaf(selfDoc);
    if (this.t() === Tok.Conversion) this.leaf(NodeId.FormatConversion);
    if (this.t() === Tok.SpecStart || this.t() === Tok.SpecStartWalrus) {
      const m2 = this.mark();
      const from2 = this.from();
      if (this.t() === Tok.SpecStart) this.leaf(NodeId.Colon);
      else this.skip();
      for (;;) {
        if (this.t() === Tok.SpecChars) this.skip();
        else if (this.t() === Tok.SpecFieldStart) {
          this.enter();
          this.replacementField(
            NodeId.LBrace,
            NodeId.NestedFormatReplacement,
            NodeId.NestedFormatSelfDoc,
          );
          this.depth--;
        } else break;
      }
      this.finish(NodeId.FormatSpec, from2, m2);
    }
    this.expect(Tok.RBrace, NodeId.RBrace);
    this.finish(type, from, m);
  }

  protected parenthesized(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LParen);
    if (this.t() === Tok.RParen) {
      this.leaf(NodeId.RParen);
      return this.finish(NodeId.TupleExpression, from, m);
    }
    if (this.t() === Tok.Yield) {
      this.yieldExpression();
      this.expect(Tok.RParen, NodeId.RParen);
      return this.finish(NodeId.ParenthesizedExpression, from, m);
    }
    this.namedOrStar();
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RParen, NodeId.RParen);
      return this.finish(NodeId.ComprehensionExpression, from, m);
    }
    if (this.t() === Tok.RParen) {
      this.leaf(NodeId.RParen);
      return this.finish(NodeId.ParenthesizedExpression, from, m);
    }
    while (this.t() === Tok.Comma) {
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.RParen) break;
      this.namedOrStar();
    }
    this.expect(Tok.RParen, NodeId.RParen);
    this.finish(NodeId.TupleExpression, from, m);
  }

  protected namedOrStar(): void {
    if (this.t() === Tok.Star) {
      this.leaf(NodeId.Star);
      this.expression();
    } else this.testNamed();
  }

  protected list(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LBracket);
    if (this.t() === Tok.RBracket) {
      this.leaf(NodeId.RBracket);
      return this.finish(NodeId.ArrayExpression, from, m);
    }
    this.namedOrStar();
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RBracket, NodeId.RBracket);
      return this.finish(NodeId.ArrayComprehensionExpression, from, m);
    }
    while (this.t() === Tok.Comma) {
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.RBracket) break;
      this.namedOrStar();
    }
    this.expect(Tok.RBracket, NodeId.RBracket);
    this.finish(NodeId.ArrayExpression, from, m);
  }

  protected braced(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LBrace);
    if (this.t() === Tok.RBrace) {
      this.leaf(NodeId.RBrace);
      return this.finish(NodeId.DictionaryExpression, from, m);
    }
    const dict = this.braceItem(undefined);
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RBrace, NodeId.RBrace);
      return this.finish(
        dict ? NodeId.DictionaryComprehensionExpression : NodeId.SetComprehensionExpression,
        from,
        m,
      );
    }
    while (this.t() === Tok.Comma) {
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.RBrace) break;
      this.braceItem(dict);
    }
    this.expect(Tok.RBrace, NodeId.RBrace);
    this.finish(dict ? NodeId.DictionaryExpression : NodeId.SetExpression, from, m);
  }

  /** One item of a dict (`k: v`, `**d`) or a set (`x`, `*s`); says which it was. */
  protected braceItem(dict: boolean | undefined): boolean {
    if (this.t() === Tok.DoubleStar) {
      if (dict === false) throw GIVE_UP;
      this.leaf(NodeId.DoubleStar);
      this.expression();
      return true;
    }
    if (this.t() === Tok.Star) {
      if (dict === true) throw GIVE_UP;
      this.leaf(NodeId.Star);
      this.expression();
      return false;
    }
    this.test();
    if (this.t() === Tok.Colon) {
      if (dict === false) throw GIVE_UP;
      this.leaf(NodeId.Colon);
      this.test();
      return true;
    }
    if (dict === true) throw GIVE_UP;
    return false;
  }

  /** `compFor`: `for ... in ...` and `if ...` clauses, flat in the comprehension. */
  protected compFor(): void {
    for (;;) {
      const k = this.t();
      if (k === Tok.Async || k === Tok.For) {
        if (k === Tok.Async) this.leaf(Tok.Async);
        this.expect(Tok.For, Tok.For);
        this.expression();
        while (this.t() === Tok.Comma) {
          this.leaf(NodeId.Comma);
          if (this.t() === Tok.In) break;
          this.expression();
        }
        this.expect(Tok.In, Tok.In);
        this.testInner(1);
      } else if (k === Tok.If) {
        this.leaf(Tok.If);
        this.testNoCond();
      } else return;
    }
  }

  protected argList(): void {
    const m = this.mark();
    const from = this.from();
    this.enter();
    this.leaf(NodeId.LParen);
    while (this.t() !== Tok.RParen) {
      switch (this.t()) {
        case Tok.Star:
          this.leaf(NodeId.Star);
          this.test();
          break;
        case Tok.DoubleStar:
          this.leaf(NodeId.DoubleStar);
          this.test();
          break;
        default: {
          const next = this.peek(1);
          if (this.t() === Tok.Name && (next === Tok.Assign || next === Tok.Walrus)) {
            this.leaf(NodeId.VariableName);
            this.leaf(NodeId.ArgAssignOp);
          }
          this.test();
          if (this.t() === Tok.For || this.t() === Tok.Async) this.compFor();
        }
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
    }
    this.expect(Tok.RParen, NodeId.RParen);
    this.depth--;
    this.finish(NodeId.ArgList, from, m);
  }

  /** `[...]` after an expression: items, slices, starred items. */
  protected subscript(): void {
    this.enter();
    this.leaf(NodeId.LBracket);
    if (this.t() === Tok.RBracket) throw GIVE_UP;
    for (;;) {
      if (this.t() === Tok.Star) {
        this.leaf(NodeId.Star);
        this.expression();
      } else {
        if (this.t() !== Tok.Colon) this.testNamed();
        if (this.t() === Tok.Colon) {
          this.leaf(NodeId.Colon);
          let k = this.t();
          if (k !== Tok.Colon && k !== Tok.Comma && k !== Tok.RBracket) this.testNamed();
          if (this.t() === Tok.Colon) {
            this.leaf(NodeId.Colon);
            k = this.t();
            if (k !== Tok.Comma && k !== Tok.RBracket) this.testNamed();
          }
        }
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.RBracket) break;
    }
    this.expect(Tok.RBracket, NodeId.RBracket);
    this.depth--;
  }
}

/** The buffer parses write into (Tree.build copies what it keeps), grown as needed. */
let scratch = new Int32Array(1 << 16);
