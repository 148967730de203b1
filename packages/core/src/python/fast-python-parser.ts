/**
 * The fast front end of the Python parser: recursive descent (precedence climbing for operators)
 * over fast-python-tokens.ts's tokens, building exactly the Lezer tree that core's generated
 * parser (grammar/python.grammar) builds for the same text: the same node types, positions and
 * nesting, including Lezer's own readings where they differ from CPython's (`not a and b` is
 * `not (a and b)`, `await` takes a whole arithmetic expression). The tree is written as Lezer's
 * flat postfix buffer (type, from, to, size per node) and built with `Tree.build`.
 *
 * Nodes span their first to their last token; a comment belongs to the innermost node whose
 * tokens enclose it (Lezer moves skipped tokens out of a node that ends before them). Anything it
 * does not reproduce exactly makes it give up (`null`), and parse-python.ts parses with Lezer.
 * test/python-conformance/fast-parser-identity.test.ts compares both on real code and mutants.
 */
import { Tree, type BufferCursor } from '@lezer/common';
import { parser } from './grammar/python-parser.generated.js';
import { GIVE_UP, Tok, tokenizePython, type Tokens } from './fast-python-tokens.js';

// Node types of the generated parser (python-parser.terms.generated.ts names only some of them;
// the others are the ids its node set gives each use of an inline rule).
const N = {
  Escape: 1,
  FieldBrace: 2,
  Comment: 3,
  Script: 4,
  AssignStatement: 5,
  Star: 6,
  BinaryExpression: 7,
  BitOr: 8,
  BitXor: 9,
  BitAnd: 10,
  BitShift: 11,
  ArithPlus: 12,
  ArithTimes: 13,
  At: 14,
  ArithPower: 15,
  DoubleStar: 16,
  UnaryExpression: 17,
  ArithPrefix: 18,
  BitNot: 19,
  AwaitExpression: 20,
  RParen: 22,
  LParen: 23,
  ParenthesizedExpression: 24,
  BinaryTest: 25,
  CompareOp: 28,
  UnaryTest: 32,
  ConditionalExpression: 33,
  LambdaExpression: 36,
  LambdaParamList: 38,
  VariableName: 39,
  LambdaAssignOp: 40,
  Comma: 41,
  Colon: 42,
  NamedExpression: 43,
  WalrusOp: 44,
  YieldExpression: 45,
  TupleExpression: 48,
  ComprehensionExpression: 49,
  LambdaNoCond: 52,
  RBracket: 53,
  LBracket: 54,
  ArrayExpression: 55,
  ArrayComprehensionExpression: 56,
  RBrace: 57,
  LBrace: 58,
  DictionaryExpression: 59,
  DictionaryComprehensionExpression: 60,
  SetExpression: 61,
  SetComprehensionExpression: 62,
  CallExpression: 63,
  ArgList: 64,
  ArgAssignOp: 65,
  MemberExpression: 66,
  Dot: 67,
  PropertyName: 68,
  Number: 69,
  String: 70,
  FormatString: 71,
  FormatReplacement: 72,
  FormatSelfDoc: 73,
  FormatConversion: 74,
  FormatSpec: 75,
  NestedFormatReplacement: 76,
  NestedFormatSelfDoc: 77,
  ContinuedString: 78,
  TypeDef: 82,
  AssignOp: 83,
  UpdateStatement: 84,
  UpdateOp: 85,
  ExpressionStatement: 86,
  DeleteStatement: 87,
  PassStatement: 89,
  BreakStatement: 91,
  ContinueStatement: 93,
  ReturnStatement: 95,
  YieldStatement: 97,
  RaiseStatement: 98,
  ImportStatement: 100,
  ScopeStatement: 103,
  AssertStatement: 106,
  TypeDefinition: 108,
  TypeKeyword: 109,
  TypeParamList: 110,
  TypeParam: 111,
  StatementGroup: 112,
  Semicolon: 113,
  IfStatement: 114,
  Body: 115,
  WhileStatement: 117,
  ForStatement: 119,
  TryStatement: 120,
  WithStatement: 124,
  FunctionDefinition: 126,
  ParamList: 128,
  ParamAssignOp: 129,
  StarTypeDef: 130,
  ReturnTypeDef: 131,
  ClassDefinition: 132,
  DecoratedStatement: 134,
  Decorator: 135,
  DecoratorAt: 136,
  MatchStatement: 137,
  MatchKeyword: 138,
  MatchTuple: 139,
  MatchBody: 140,
  MatchClause: 141,
  CaseKeyword: 142,
  CapturePattern: 143,
  LiteralPattern: 144,
  PatternSign: 145,
  PatternArith: 146,
  AsPattern: 147,
  OrPattern: 148,
  LogicOp: 149,
  AttributePattern: 150,
  SequencePattern: 151,
  MappingPattern: 152,
  StarPattern: 153,
  ClassPattern: 154,
  PatternArgList: 155,
  KeywordPatternFirst: 156,
  KeywordPatternLater: 157,
  Guard: 158,
} as const;

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
function startsTest(k: number): boolean {
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

class FastParser {
  private readonly kind: Int32Array;
  private readonly tstart: Int32Array;
  private readonly tend: Int32Array;
  private readonly comments: readonly number[];
  private readonly count: number;
  private p = 0;
  private ci = 0;
  private lastEnd = 0;
  private depth = 0;
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

  private t(): number {
    return this.kind[this.p]!;
  }
  private peek(n: number): number {
    const i = this.p + n;
    return i < this.count ? this.kind[i]! : Tok.Eof;
  }
  private text(): string {
    return this.code.slice(this.tstart[this.p], this.tend[this.p]);
  }

  /** Writes the comments before the current token into the buffer. */
  private flush(): void {
    const at = this.tstart[this.p]!;
    const c = this.comments;
    while (this.ci < c.length && c[this.ci]! < at) {
      this.record(N.Comment, c[this.ci]!, c[this.ci + 1]!, 4);
      this.ci += 2;
    }
  }

  private record(type: number, from: number, to: number, size: number): void {
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
  private mark(): number {
    this.flush();
    return this.n;
  }

  /** Consumes the current token without a node. */
  private skip(): void {
    this.flush();
    const e = this.tend[this.p]!;
    if (e > this.tstart[this.p]!) this.lastEnd = e;
    this.p++;
  }

  /** Consumes a zero-length token (indentation, the end); comments stay where they are. */
  private skipEmpty(): void {
    this.p++;
  }

  /** Consumes the current token as a leaf node of `type`. */
  private leaf(type: number): void {
    this.flush();
    const s = this.tstart[this.p]!;
    const e = this.tend[this.p]!;
    this.record(type, s, e, 4);
    this.lastEnd = e;
    this.p++;
  }

  /** Consumes the current token as a node of `outer` holding a node of `inner`. */
  private leaf2(outer: number, inner: number): void {
    this.flush();
    const s = this.tstart[this.p]!;
    const e = this.tend[this.p]!;
    this.record(inner, s, e, 4);
    this.record(outer, s, e, 8);
    this.lastEnd = e;
    this.p++;
  }

  private expect(k: number, type: number): void {
    if (this.kind[this.p] !== k) throw GIVE_UP;
    this.leaf(type);
  }

  private finish(type: number, from: number, mark: number): void {
    this.record(type, from, this.lastEnd, this.n - mark + 4);
  }

  private from(): number {
    return this.tstart[this.p]!;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw GIVE_UP;
  }

  // ---- statements ------------------------------------------------------------------------------

  script(): void {
    while (this.t() !== Tok.Eof) this.statement();
    // The rest of the comments.
    const c = this.comments;
    while (this.ci < c.length) {
      this.record(N.Comment, c[this.ci]!, c[this.ci + 1]!, 4);
      this.ci += 2;
    }
  }

  private statement(): void {
    switch (this.t()) {
      case Tok.If:
        return this.ifStatement();
      case Tok.While:
        return this.whileStatement();
      case Tok.For:
        return this.forStatement(this.mark(), this.from());
      case Tok.Try:
        return this.tryStatement();
      case Tok.With:
        return this.withStatement(this.mark(), this.from());
      case Tok.Def:
        return this.functionDefinition(this.mark(), this.from());
      case Tok.Class:
        return this.classDefinition();
      case Tok.At:
        return this.decoratedStatement();
      case Tok.Async: {
        const m = this.mark();
        const from = this.from();
        const next = this.peek(1);
        if (next === Tok.Def) return this.functionDefinition(m, from);
        if (next === Tok.For) return this.forStatement(m, from);
        if (next === Tok.With) return this.withStatement(m, from);
        throw GIVE_UP;
      }
      case Tok.Name:
        if (this.isMatchStatement()) return this.matchStatement();
        return this.simpleStatement();
      case Tok.Indent:
      case Tok.Dedent:
        throw GIVE_UP;
      default:
        return this.simpleStatement();
    }
  }

  private simpleStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.smallStatement();
    if (this.t() === Tok.Semicolon) {
      while (this.t() === Tok.Semicolon) {
        this.leaf(N.Semicolon);
        const k = this.t();
        if (k === Tok.Newline || k === Tok.Eof || k === Tok.Semicolon) continue;
        this.smallStatement();
      }
      this.endOfLine();
      this.finish(N.StatementGroup, from, m);
      return;
    }
    this.endOfLine();
  }

  private endOfLine(): void {
    if (this.t() === Tok.Newline) this.skip();
    else if (this.t() !== Tok.Eof) throw GIVE_UP;
  }

  private keywordStatement(type: number, keyword: number): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(keyword);
    this.finish(type, from, m);
  }

  private smallStatement(): void {
    switch (this.t()) {
      case Tok.Pass:
        return this.keywordStatement(N.PassStatement, Tok.Pass);
      case Tok.Break:
        return this.keywordStatement(N.BreakStatement, Tok.Break);
      case Tok.Continue:
        return this.keywordStatement(N.ContinueStatement, Tok.Continue);
      case Tok.Del: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Del);
        this.commaSep(() => this.expression(), false);
        return this.finish(N.DeleteStatement, from, m);
      }
      case Tok.Return: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Return);
        if (startsTest(this.t()) || this.t() === Tok.Star)
          this.commaSep(() => this.testOrStar(), true);
        return this.finish(N.ReturnStatement, from, m);
      }
      case Tok.Yield: {
        const m = this.mark();
        const from = this.from();
        this.yieldBody();
        return this.finish(N.YieldStatement, from, m);
      }
      case Tok.Raise:
        return this.raiseStatement();
      case Tok.Import:
      case Tok.From:
        return this.importStatement();
      case Tok.Global:
      case Tok.Nonlocal: {
        const m = this.mark();
        const from = this.from();
        this.leaf(this.t());
        this.commaSep(() => this.expect(Tok.Name, N.VariableName), false);
        return this.finish(N.ScopeStatement, from, m);
      }
      case Tok.Assert: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Assert);
        this.commaSep(() => this.test(), false);
        return this.finish(N.AssertStatement, from, m);
      }
      case Tok.Name:
        if (this.peek(1) === Tok.Name && this.text() === 'type') return this.typeDefinition();
        return this.expressionStatement();
      default:
        return this.expressionStatement();
    }
  }

  private expressionStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.expressions();
    const k = this.t();
    if (k === Tok.Update) {
      this.leaf(N.UpdateOp);
      if (this.t() === Tok.Yield) this.yieldExpression();
      else this.commaSep(() => this.test(), true);
      return this.finish(N.UpdateStatement, from, m);
    }
    if (k === Tok.Colon || k === Tok.Assign) {
      if (k === Tok.Colon) this.typeDef();
      while (this.t() === Tok.Assign) {
        this.leaf(N.AssignOp);
        if (this.t() === Tok.Yield) this.yieldExpression();
        else this.expressions();
      }
      return this.finish(N.AssignStatement, from, m);
    }
    this.finish(N.ExpressionStatement, from, m);
  }

  /** `commaSep<"*" expression | test>` */
  private expressions(): void {
    this.commaSep(() => this.testOrStar(), true);
  }

  private testOrStar(): void {
    if (this.t() === Tok.Star) {
      this.leaf(N.Star);
      this.expression();
    } else this.test();
  }

  /**
   * `item ("," item)* ","?`; with `trailing`, a comma may end the list when no test follows;
   * otherwise the list ends at a comma only before what cannot start an item.
   */
  private commaSep(item: () => void, tests: boolean): void {
    item();
    while (this.t() === Tok.Comma) {
      this.leaf(N.Comma);
      const k = this.t();
      if (tests ? !(startsTest(k) || k === Tok.Star) : !this.startsItem(k)) return;
      item();
    }
  }

  private startsItem(k: number): boolean {
    return startsTest(k) || k === Tok.Star || k === Tok.DoubleStar;
  }

  private typeDef(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.Colon);
    this.test();
    this.finish(N.TypeDef, from, m);
  }

  private typeDefinition(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.TypeKeyword);
    this.expect(Tok.Name, N.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    if (this.t() !== Tok.Assign) throw GIVE_UP;
    this.skip();
    this.test();
    this.finish(N.TypeDefinition, from, m);
  }

  private yieldBody(): void {
    this.leaf(Tok.Yield);
    if (this.t() === Tok.From) {
      this.leaf(Tok.From);
      this.test();
    } else if (startsTest(this.t()) || this.t() === Tok.Star)
      this.commaSep(() => this.testOrStar(), true);
  }

  private yieldExpression(): void {
    const m = this.mark();
    const from = this.from();
    this.yieldBody();
    this.finish(N.YieldExpression, from, m);
  }

  private raiseStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Raise);
    if (startsTest(this.t())) {
      this.test();
      if (this.t() === Tok.From) {
        this.leaf(Tok.From);
        this.test();
      } else if (this.t() === Tok.Comma) {
        this.leaf(N.Comma);
        this.test();
        if (this.t() === Tok.Comma) {
          this.leaf(N.Comma);
          this.test();
        }
      }
    }
    this.finish(N.RaiseStatement, from, m);
  }

  private importStatement(): void {
    const m = this.mark();
    const from = this.from();
    if (this.t() === Tok.Import) {
      this.leaf(Tok.Import);
      this.importedNamesOrList();
    } else {
      this.leaf(Tok.From);
      let dots = false;
      while (this.t() === Tok.Dot || this.t() === Tok.Ellipsis) {
        this.leaf(this.t() === Tok.Dot ? N.Dot : Tok.Ellipsis);
        dots = true;
      }
      if (!dots || this.t() === Tok.Name) this.dottedName();
      this.expect(Tok.Import, Tok.Import);
      if (this.t() === Tok.Star) this.leaf(N.Star);
      else this.importedNamesOrList();
    }
    this.finish(N.ImportStatement, from, m);
  }

  private importedNamesOrList(): void {
    if (this.t() === Tok.LParen) {
      this.leaf(N.LParen);
      this.importedNames();
      this.expect(Tok.RParen, N.RParen);
    } else this.importedNames();
  }

  private importedNames(): void {
    for (;;) {
      this.dottedName();
      if (this.t() === Tok.As) {
        this.leaf(Tok.As);
        this.expect(Tok.Name, N.VariableName);
      }
      if (this.t() !== Tok.Comma) return;
      this.leaf(N.Comma);
      if (this.t() !== Tok.Name) return;
    }
  }

  private dottedName(): void {
    this.expect(Tok.Name, N.VariableName);
    while (this.t() === Tok.Dot) {
      this.leaf(N.Dot);
      this.expect(Tok.Name, N.VariableName);
    }
  }

  // ---- compound statements ---------------------------------------------------------------------

  private body(): void {
    const m = this.mark();
    const from = this.from();
    this.expect(Tok.Colon, N.Colon);
    if (this.t() === Tok.Newline) {
      this.skip();
      if (this.t() !== Tok.Indent) throw GIVE_UP;
      this.skipEmpty();
      do this.statement();
      while (this.t() !== Tok.Dedent && this.t() !== Tok.Eof);
      if (this.t() === Tok.Dedent) this.skipEmpty();
    } else this.simpleStatement();
    this.finish(N.Body, from, m);
  }

  private ifStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.If);
    this.testNamed();
    this.body();
    while (this.t() === Tok.Elif) {
      this.leaf(Tok.Elif);
      if (this.t() !== Tok.Colon) this.testNamed();
      this.body();
    }
    this.elseClause();
    this.finish(N.IfStatement, from, m);
  }

  private elseClause(): void {
    if (this.t() === Tok.Else) {
      this.leaf(Tok.Else);
      this.body();
    }
  }

  private whileStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.While);
    this.testNamed();
    this.body();
    this.elseClause();
    this.finish(N.WhileStatement, from, m);
  }

  private forStatement(m: number, from: number): void {
    if (this.t() === Tok.Async) this.leaf(Tok.Async);
    this.expect(Tok.For, Tok.For);
    this.commaSep(() => {
      if (this.t() === Tok.Star) this.leaf(N.Star);
      this.expression();
    }, true);
    this.expect(Tok.In, Tok.In);
    this.commaSep(() => this.testOrStar(), true);
    this.body();
    this.elseClause();
    this.finish(N.ForStatement, from, m);
  }

  private tryStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Try);
    this.body();
    while (this.t() === Tok.Except) {
      this.leaf(Tok.Except);
      if (this.t() === Tok.Star) this.leaf(N.Star);
      if (this.t() !== Tok.Colon) {
        this.test();
        if (this.t() === Tok.As || this.t() === Tok.Comma) {
          this.leaf(this.t() === Tok.As ? Tok.As : N.Comma);
          this.expect(Tok.Name, N.VariableName);
        }
      }
      this.body();
    }
    this.elseClause();
    if (this.t() === Tok.Finally) {
      this.leaf(Tok.Finally);
      this.body();
    }
    this.finish(N.TryStatement, from, m);
  }

  private withStatement(m: number, from: number): void {
    if (this.t() === Tok.Async) this.leaf(Tok.Async);
    this.expect(Tok.With, Tok.With);
    if (this.t() === Tok.LParen && this.isWithItemList()) {
      this.leaf(N.LParen);
      this.commaSep(() => this.withItem(), true);
      this.expect(Tok.RParen, N.RParen);
    } else this.commaSep(() => this.withItem(), true);
    this.body();
    this.finish(N.WithStatement, from, m);
  }

  /** `with (a as b, c):` (items in brackets) rather than `with (a, b):` (a tuple). */
  private isWithItemList(): boolean {
    let depth = 0;
    let as = false;
    for (let i = this.p; i < this.count; i++) {
      const k = this.kind[i]!;
      if (k === Tok.LParen || k === Tok.LBracket || k === Tok.LBrace) depth++;
      else if (k === Tok.RParen || k === Tok.RBracket || k === Tok.RBrace) {
        if (--depth === 0) return as && this.kind[i + 1] === Tok.Colon;
      } else if (k === Tok.As && depth === 1) as = true;
      else if (k === Tok.Eof || k === Tok.Newline) return false;
    }
    return false;
  }

  private withItem(): void {
    this.test();
    if (this.t() === Tok.As) {
      this.leaf(Tok.As);
      this.expression();
    }
  }

  private functionDefinition(m: number, from: number): void {
    if (this.t() === Tok.Async) this.leaf(Tok.Async);
    this.expect(Tok.Def, Tok.Def);
    this.expect(Tok.Name, N.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    this.paramList();
    if (this.t() === Tok.Arrow) {
      const m2 = this.mark();
      const from2 = this.from();
      this.skip();
      this.test();
      this.finish(N.ReturnTypeDef, from2, m2);
    }
    this.body();
    this.finish(N.FunctionDefinition, from, m);
  }

  private paramList(): void {
    const m = this.mark();
    const from = this.from();
    this.expect(Tok.LParen, N.LParen);
    while (this.t() !== Tok.RParen) {
      switch (this.t()) {
        case Tok.Name:
          this.leaf(N.VariableName);
          if (this.t() === Tok.Colon) this.typeDef();
          if (this.t() === Tok.Assign) {
            this.leaf(N.ParamAssignOp);
            this.test();
          }
          break;
        case Tok.Star:
          this.leaf(N.Star);
          if (this.t() === Tok.Name) {
            this.leaf(N.VariableName);
            if (this.t() === Tok.Colon) {
              if (this.peek(1) === Tok.Star) {
                const m2 = this.mark();
                const from2 = this.from();
                this.leaf(N.Colon);
                this.leaf(N.Star);
                this.expression();
                this.finish(N.StarTypeDef, from2, m2);
              } else this.typeDef();
            }
          }
          break;
        case Tok.DoubleStar:
          this.leaf(N.DoubleStar);
          this.expect(Tok.Name, N.VariableName);
          if (this.t() === Tok.Colon) this.typeDef();
          break;
        case Tok.Slash:
          this.skip();
          break;
        default:
          throw GIVE_UP;
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
    }
    this.expect(Tok.RParen, N.RParen);
    this.finish(N.ParamList, from, m);
  }

  private typeParamList(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LBracket);
    for (;;) {
      const m2 = this.mark();
      const from2 = this.from();
      if (this.t() === Tok.Star || this.t() === Tok.DoubleStar) {
        this.leaf(this.t() === Tok.Star ? N.Star : N.DoubleStar);
        this.expect(Tok.Name, N.VariableName);
      } else {
        this.expect(Tok.Name, N.VariableName);
        if (this.t() === Tok.Colon) this.typeDef();
      }
      this.finish(N.TypeParam, from2, m2);
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
      if (this.t() === Tok.RBracket) break;
    }
    this.expect(Tok.RBracket, N.RBracket);
    this.finish(N.TypeParamList, from, m);
  }

  private classDefinition(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Class);
    this.expect(Tok.Name, N.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    if (this.t() === Tok.LParen) this.argList();
    this.body();
    this.finish(N.ClassDefinition, from, m);
  }

  private decoratedStatement(): void {
    const m = this.mark();
    const from = this.from();
    while (this.t() === Tok.At) {
      const m2 = this.mark();
      const from2 = this.from();
      this.leaf(N.DecoratorAt);
      this.testNamed();
      if (this.t() !== Tok.Newline) throw GIVE_UP;
      this.skip();
      this.finish(N.Decorator, from2, m2);
    }
    const m3 = this.mark();
    const from3 = this.from();
    if (this.t() === Tok.Class) this.classDefinition();
    else if (this.t() === Tok.Def || (this.t() === Tok.Async && this.peek(1) === Tok.Def))
      this.functionDefinition(m3, from3);
    else throw GIVE_UP;
    this.finish(N.DecoratedStatement, from, m);
  }

  /** `match` starting a match statement: its line ends with `:`, and it is not a name used. */
  private isMatchStatement(): boolean {
    if (this.text() !== 'match') return false;
    const next = this.peek(1);
    if (!(startsTest(next) || next === Tok.Star)) return false;
    for (let i = this.p + 1; i < this.count; i++) {
      const k = this.kind[i]!;
      if (k === Tok.Newline || k === Tok.Eof) return this.kind[i - 1] === Tok.Colon;
    }
    return false;
  }

  private matchStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.MatchKeyword);
    const m2 = this.mark();
    const from2 = this.from();
    const star = this.t() === Tok.Star;
    if (star) {
      this.leaf(N.Star);
      this.expression();
    } else this.testNamed();
    if (this.t() === Tok.Comma) {
      while (this.t() === Tok.Comma) {
        this.leaf(N.Comma);
        if (this.t() === Tok.Colon) break;
        if (this.t() === Tok.Star) {
          this.leaf(N.Star);
          this.expression();
        } else this.testNamed();
      }
      this.finish(N.MatchTuple, from2, m2);
    } else if (star) throw GIVE_UP;
    const m3 = this.mark();
    const from3 = this.from();
    this.expect(Tok.Colon, N.Colon);
    if (this.t() !== Tok.Newline) throw GIVE_UP;
    this.skip();
    if (this.t() !== Tok.Indent) throw GIVE_UP;
    this.skipEmpty();
    do this.matchClause();
    while (this.t() !== Tok.Dedent && this.t() !== Tok.Eof);
    if (this.t() === Tok.Dedent) this.skipEmpty();
    this.finish(N.MatchBody, from3, m3);
    this.finish(N.MatchStatement, from, m);
  }

  private matchClause(): void {
    if (this.t() !== Tok.Name || this.text() !== 'case') throw GIVE_UP;
    const m = this.mark();
    const from = this.from();
    this.leaf(N.CaseKeyword);
    this.pattern();
    while (this.t() === Tok.Comma) {
      this.leaf(N.Comma);
      if (this.t() === Tok.If || this.t() === Tok.Colon) break;
      this.pattern();
    }
    if (this.t() === Tok.If) {
      const m2 = this.mark();
      const from2 = this.from();
      this.leaf(Tok.If);
      this.test();
      this.finish(N.Guard, from2, m2);
    }
    this.body();
    this.finish(N.MatchClause, from, m);
  }

  // ---- patterns --------------------------------------------------------------------------------

  private pattern(): void {
    this.enter();
    const m = this.mark();
    const from = this.from();
    this.asPattern();
    if (this.t() === Tok.Pipe) {
      while (this.t() === Tok.Pipe) {
        this.leaf(N.LogicOp);
        this.asPattern();
      }
      this.finish(N.OrPattern, from, m);
    }
    this.depth--;
  }

  private asPattern(): void {
    const m = this.mark();
    const from = this.from();
    this.primaryPattern();
    while (this.t() === Tok.As) {
      this.leaf(Tok.As);
      this.expect(Tok.Name, N.VariableName);
      this.finish(N.AsPattern, from, m);
    }
  }

  private primaryPattern(): void {
    const m = this.mark();
    const from = this.from();
    switch (this.t()) {
      case Tok.Star:
        this.leaf(N.Star);
        this.enter();
        this.primaryPattern();
        this.depth--;
        return this.finish(N.StarPattern, from, m);
      case Tok.Name:
        if (this.peek(1) === Tok.Dot) {
          this.attributePattern();
          if (this.t() === Tok.LParen) {
            this.patternArgList();
            this.finish(N.ClassPattern, from, m);
          }
          return;
        }
        this.leaf(N.VariableName);
        if (this.t() === Tok.LParen) {
          this.patternArgList();
          return this.finish(N.ClassPattern, from, m);
        }
        return this.finish(N.CapturePattern, from, m);
      case Tok.LBracket:
        return this.sequencePattern(Tok.RBracket, N.LBracket, N.RBracket);
      case Tok.LParen:
        return this.sequencePattern(Tok.RParen, N.LParen, N.RParen);
      case Tok.LBrace:
        return this.mappingPattern();
      default:
        return this.literalPattern();
    }
  }

  private attributePattern(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.VariableName);
    while (this.t() === Tok.Dot) {
      this.leaf(N.Dot);
      this.propertyName();
    }
    this.finish(N.AttributePattern, from, m);
  }

  private literalPattern(): void {
    const m = this.mark();
    const from = this.from();
    switch (this.t()) {
      case Tok.Minus:
      case Tok.Number:
        if (this.t() === Tok.Minus) this.leaf(N.PatternSign);
        this.expect(Tok.Number, N.Number);
        if ((this.t() === Tok.Plus || this.t() === Tok.Minus) && this.peek(1) === Tok.Number) {
          this.leaf(N.PatternArith);
          this.leaf(N.Number);
        }
        break;
      case Tok.StringStart:
        this.string();
        if (this.t() === Tok.StringStart || this.t() === Tok.FormatStart) throw GIVE_UP;
        break;
      case Tok.None:
        this.leaf(Tok.None);
        break;
      case Tok.Boolean:
        this.leaf(Tok.Boolean);
        break;
      default:
        throw GIVE_UP;
    }
    this.finish(N.LiteralPattern, from, m);
  }

  private sequencePattern(close: number, open: number, closeType: number): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(open);
    if (this.t() !== close) {
      this.pattern();
      while (this.t() === Tok.Comma) {
        this.leaf(N.Comma);
        if (this.t() === close) break;
        this.pattern();
      }
    }
    this.expect(close, closeType);
    this.finish(N.SequencePattern, from, m);
  }

  private mappingPattern(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LBrace);
    while (this.t() !== Tok.RBrace) {
      if (this.t() === Tok.DoubleStar) {
        this.leaf(N.DoubleStar);
        this.pattern();
      } else {
        if (this.t() === Tok.Name) {
          if (this.peek(1) === Tok.Dot) this.attributePattern();
          else this.leaf(N.VariableName);
        } else this.literalPattern();
        this.expect(Tok.Colon, N.Colon);
        this.pattern();
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
    }
    this.expect(Tok.RBrace, N.RBrace);
    this.finish(N.MappingPattern, from, m);
  }

  private patternArgList(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LParen);
    let first = true;
    while (this.t() !== Tok.RParen) {
      if (this.t() === Tok.Name && this.peek(1) === Tok.Assign) {
        const m2 = this.mark();
        const from2 = this.from();
        this.leaf(N.VariableName);
        this.skip();
        this.pattern();
        this.finish(first ? N.KeywordPatternFirst : N.KeywordPatternLater, from2, m2);
      } else this.pattern();
      first = false;
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
    }
    this.expect(Tok.RParen, N.RParen);
    this.finish(N.PatternArgList, from, m);
  }

  // ---- expressions -----------------------------------------------------------------------------

  /** `testNamed`: a test, or `test := test`. */
  private testNamed(): void {
    const m = this.mark();
    const from = this.from();
    this.test();
    if (this.t() === Tok.Walrus) {
      this.leaf(N.WalrusOp);
      this.test();
      this.finish(N.NamedExpression, from, m);
    }
  }

  private test(): void {
    this.enter();
    if (this.t() === Tok.Lambda) this.lambda(N.LambdaExpression, false);
    else {
      const m = this.mark();
      const from = this.from();
      this.testInner(1);
      if (this.t() === Tok.If) {
        this.leaf(Tok.If);
        this.testInner(1);
        this.expect(Tok.Else, Tok.Else);
        this.test();
        this.finish(N.ConditionalExpression, from, m);
      }
    }
    this.depth--;
  }

  private testNoCond(): void {
    if (this.t() === Tok.Lambda) {
      this.enter();
      this.lambda(N.LambdaNoCond, true);
      this.depth--;
    } else this.testInner(1);
  }

  private lambda(type: number, noCond: boolean): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Lambda);
    if (this.t() === Tok.Colon) {
      // Lezer places an empty parameter list where the `:` starts.
      const at = this.from();
      this.record(N.LambdaParamList, at, at, 4);
    } else {
      const m2 = this.mark();
      const from2 = this.from();
      for (;;) {
        switch (this.t()) {
          case Tok.Name:
            this.leaf(N.VariableName);
            if (this.t() === Tok.Assign) {
              this.leaf(N.LambdaAssignOp);
              this.test();
            }
            break;
          case Tok.Star:
            this.leaf(N.Star);
            if (this.t() === Tok.Name) this.leaf(N.VariableName);
            break;
          case Tok.DoubleStar:
            this.leaf(N.DoubleStar);
            this.expect(Tok.Name, N.VariableName);
            break;
          case Tok.Slash:
            this.skip();
            break;
          default:
            throw GIVE_UP;
        }
        if (this.t() !== Tok.Comma) break;
        this.leaf(N.Comma);
        if (this.t() === Tok.Colon) break;
      }
      this.finish(N.LambdaParamList, from2, m2);
    }
    this.expect(Tok.Colon, N.Colon);
    if (noCond) this.testNoCond();
    else this.test();
    this.finish(type, from, m);
  }

  /** `testInner`: `or`, `and`, `not` and comparisons over expressions, from `level` up. */
  private testInner(level: number): void {
    const m = this.mark();
    const from = this.from();
    if (this.t() === Tok.Not) {
      // Lezer's `not` takes the whole test after it: `not a and b` is `not (a and b)`.
      this.enter();
      this.leaf(Tok.Not);
      this.testInner(1);
      this.finish(N.UnaryTest, from, m);
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
          this.leaf(N.CompareOp);
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
      this.finish(N.BinaryTest, from, m);
    }
  }

  /** `expression` with binary operators from `level` up (1: `|`, ..., 6: `*`). */
  private expression(level = 1): void {
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
          this.leaf(N.BitOr);
          break;
        case Tok.Caret:
          this.leaf(N.BitXor);
          break;
        case Tok.Amp:
          this.leaf(N.BitAnd);
          break;
        case Tok.ShiftLeft:
        case Tok.ShiftRight:
          this.leaf(N.BitShift);
          break;
        case Tok.Plus:
        case Tok.Minus:
          this.leaf(N.ArithPlus);
          break;
        case Tok.Star:
          this.leaf2(N.ArithTimes, N.Star);
          break;
        case Tok.At:
          this.leaf2(N.ArithTimes, N.At);
          break;
        default:
          this.leaf(N.ArithTimes);
      }
      this.enter();
      this.expression(l + 1);
      this.depth--;
      this.finish(N.BinaryExpression, from, m);
    }
  }

  /** Prefix operators, `await`, and `**` (which binds tighter than a prefix on its left). */
  private unary(): void {
    const k = this.t();
    if (k === Tok.Minus || k === Tok.Plus || k === Tok.Tilde) {
      const m = this.mark();
      const from = this.from();
      this.enter();
      this.leaf(k === Tok.Tilde ? N.BitNot : N.ArithPrefix);
      this.unary();
      this.depth--;
      return this.finish(N.UnaryExpression, from, m);
    }
    if (k === Tok.Await) {
      // Lezer's `await` takes the whole arithmetic expression after it.
      const m = this.mark();
      const from = this.from();
      this.enter();
      this.leaf(Tok.Await);
      this.expression(1);
      this.depth--;
      return this.finish(N.AwaitExpression, from, m);
    }
    const m = this.mark();
    const from = this.from();
    this.primary();
    if (this.t() === Tok.DoubleStar) {
      this.leaf2(N.ArithPower, N.DoubleStar);
      this.enter();
      this.unary();
      this.depth--;
      this.finish(N.BinaryExpression, from, m);
    }
  }

  /** An atom and its trailers (calls, subscripts, attributes). */
  private primary(): void {
    const m = this.mark();
    const from = this.from();
    this.atom();
    let trailers = 0;
    for (;;) {
      switch (this.t()) {
        case Tok.LParen:
          this.argList();
          this.finish(N.CallExpression, from, m);
          break;
        case Tok.LBracket:
          this.subscript();
          this.finish(N.MemberExpression, from, m);
          break;
        case Tok.Dot:
          this.leaf(N.Dot);
          this.propertyName();
          this.finish(N.MemberExpression, from, m);
          break;
        default:
          return;
      }
      if (++trailers > MAX_CHAIN) throw GIVE_UP;
    }
  }

  /** Any word after `.`, keywords included. */
  private propertyName(): void {
    const k = this.t();
    if (k === Tok.Name || (k < 300 && /^[^\W\d]/u.test(this.text()))) this.leaf(N.PropertyName);
    else throw GIVE_UP;
  }

  private atom(): void {
    switch (this.t()) {
      case Tok.Name:
        return this.leaf(N.VariableName);
      case Tok.Number:
        return this.leaf(N.Number);
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

  private bracketed(parse: () => void): void {
    this.enter();
    parse();
    this.depth--;
  }

  private strings(): void {
    const m = this.mark();
    const from = this.from();
    this.string();
    if (this.t() === Tok.StringStart || this.t() === Tok.FormatStart) {
      do this.string();
      while (this.t() === Tok.StringStart || this.t() === Tok.FormatStart);
      this.finish(N.ContinuedString, from, m);
    }
  }

  private string(): void {
    const m = this.mark();
    const from = this.from();
    const format = this.t() === Tok.FormatStart;
    this.skip();
    for (;;) {
      switch (this.t()) {
        case Tok.Escape:
          this.leaf(N.Escape);
          continue;
        case Tok.FieldStart:
          this.enter();
          this.replacementField(N.FieldBrace, N.FormatReplacement, N.FormatSelfDoc);
          this.depth--;
          continue;
        case Tok.StringEnd:
          this.skip();
          return this.finish(format ? N.FormatString : N.String, from, m);
        default:
          throw GIVE_UP;
      }
    }
  }

  private replacementField(brace: number, type: number, selfDoc: number): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(brace);
    if (this.t() === Tok.Yield) this.yieldExpression();
    else
      this.commaSep(() => {
        if (this.t() === Tok.Star) this.leaf(N.Star);
        this.test();
      }, true);
    if (this.t() === Tok.Assign) this.leaf(selfDoc);
    if (this.t() === Tok.Conversion) this.leaf(N.FormatConversion);
    if (this.t() === Tok.SpecStart || this.t() === Tok.SpecStartWalrus) {
      const m2 = this.mark();
      const from2 = this.from();
      if (this.t() === Tok.SpecStart) this.leaf(N.Colon);
      else this.skip();
      for (;;) {
        if (this.t() === Tok.SpecChars) this.skip();
        else if (this.t() === Tok.SpecFieldStart) {
          this.enter();
          this.replacementField(N.LBrace, N.NestedFormatReplacement, N.NestedFormatSelfDoc);
          this.depth--;
        } else break;
      }
      this.finish(N.FormatSpec, from2, m2);
    }
    this.expect(Tok.RBrace, N.RBrace);
    this.finish(type, from, m);
  }

  private parenthesized(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LParen);
    if (this.t() === Tok.RParen) {
      this.leaf(N.RParen);
      return this.finish(N.TupleExpression, from, m);
    }
    if (this.t() === Tok.Yield) {
      this.yieldExpression();
      this.expect(Tok.RParen, N.RParen);
      return this.finish(N.ParenthesizedExpression, from, m);
    }
    this.namedOrStar();
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RParen, N.RParen);
      return this.finish(N.ComprehensionExpression, from, m);
    }
    if (this.t() === Tok.RParen) {
      this.leaf(N.RParen);
      return this.finish(N.ParenthesizedExpression, from, m);
    }
    while (this.t() === Tok.Comma) {
      this.leaf(N.Comma);
      if (this.t() === Tok.RParen) break;
      this.namedOrStar();
    }
    this.expect(Tok.RParen, N.RParen);
    this.finish(N.TupleExpression, from, m);
  }

  private namedOrStar(): void {
    if (this.t() === Tok.Star) {
      this.leaf(N.Star);
      this.expression();
    } else this.testNamed();
  }

  private list(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LBracket);
    if (this.t() === Tok.RBracket) {
      this.leaf(N.RBracket);
      return this.finish(N.ArrayExpression, from, m);
    }
    this.namedOrStar();
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RBracket, N.RBracket);
      return this.finish(N.ArrayComprehensionExpression, from, m);
    }
    while (this.t() === Tok.Comma) {
      this.leaf(N.Comma);
      if (this.t() === Tok.RBracket) break;
      this.namedOrStar();
    }
    this.expect(Tok.RBracket, N.RBracket);
    this.finish(N.ArrayExpression, from, m);
  }

  private braced(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(N.LBrace);
    if (this.t() === Tok.RBrace) {
      this.leaf(N.RBrace);
      return this.finish(N.DictionaryExpression, from, m);
    }
    const dict = this.braceItem(undefined);
    if (this.t() === Tok.For || this.t() === Tok.Async) {
      this.compFor();
      this.expect(Tok.RBrace, N.RBrace);
      return this.finish(
        dict ? N.DictionaryComprehensionExpression : N.SetComprehensionExpression,
        from,
        m,
      );
    }
    while (this.t() === Tok.Comma) {
      this.leaf(N.Comma);
      if (this.t() === Tok.RBrace) break;
      this.braceItem(dict);
    }
    this.expect(Tok.RBrace, N.RBrace);
    this.finish(dict ? N.DictionaryExpression : N.SetExpression, from, m);
  }

  /** One item of a dict (`k: v`, `**d`) or a set (`x`, `*s`); says which it was. */
  private braceItem(dict: boolean | undefined): boolean {
    if (this.t() === Tok.DoubleStar) {
      if (dict === false) throw GIVE_UP;
      this.leaf(N.DoubleStar);
      this.expression();
      return true;
    }
    if (this.t() === Tok.Star) {
      if (dict === true) throw GIVE_UP;
      this.leaf(N.Star);
      this.expression();
      return false;
    }
    this.test();
    if (this.t() === Tok.Colon) {
      if (dict === false) throw GIVE_UP;
      this.leaf(N.Colon);
      this.test();
      return true;
    }
    if (dict === true) throw GIVE_UP;
    return false;
  }

  /** `compFor`: `for ... in ...` and `if ...` clauses, flat in the comprehension. */
  private compFor(): void {
    for (;;) {
      const k = this.t();
      if (k === Tok.Async || k === Tok.For) {
        if (k === Tok.Async) this.leaf(Tok.Async);
        this.expect(Tok.For, Tok.For);
        this.expression();
        while (this.t() === Tok.Comma) {
          this.leaf(N.Comma);
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

  private argList(): void {
    const m = this.mark();
    const from = this.from();
    this.enter();
    this.leaf(N.LParen);
    while (this.t() !== Tok.RParen) {
      switch (this.t()) {
        case Tok.Star:
          this.leaf(N.Star);
          this.test();
          break;
        case Tok.DoubleStar:
          this.leaf(N.DoubleStar);
          this.test();
          break;
        default: {
          const next = this.peek(1);
          if (this.t() === Tok.Name && (next === Tok.Assign || next === Tok.Walrus)) {
            this.leaf(N.VariableName);
            this.leaf(N.ArgAssignOp);
          }
          this.test();
          if (this.t() === Tok.For || this.t() === Tok.Async) this.compFor();
        }
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
    }
    this.expect(Tok.RParen, N.RParen);
    this.depth--;
    this.finish(N.ArgList, from, m);
  }

  /** `[...]` after an expression: items, slices, starred items. */
  private subscript(): void {
    this.enter();
    this.leaf(N.LBracket);
    if (this.t() === Tok.RBracket) throw GIVE_UP;
    for (;;) {
      if (this.t() === Tok.Star) {
        this.leaf(N.Star);
        this.expression();
      } else {
        if (this.t() !== Tok.Colon) this.testNamed();
        if (this.t() === Tok.Colon) {
          this.leaf(N.Colon);
          let k = this.t();
          if (k !== Tok.Colon && k !== Tok.Comma && k !== Tok.RBracket) this.testNamed();
          if (this.t() === Tok.Colon) {
            this.leaf(N.Colon);
            k = this.t();
            if (k !== Tok.Comma && k !== Tok.RBracket) this.testNamed();
          }
        }
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(N.Comma);
      if (this.t() === Tok.RBracket) break;
    }
    this.expect(Tok.RBracket, N.RBracket);
    this.depth--;
  }
}

/** Lezer's buffer cursor over an Int32Array (its own reads plain arrays only). */
class Int32BufferCursor implements BufferCursor {
  constructor(
    readonly buffer: Int32Array,
    public pos: number,
  ) {}
  get id(): number {
    return this.buffer[this.pos - 4]!;
  }
  get start(): number {
    return this.buffer[this.pos - 3]!;
  }
  get end(): number {
    return this.buffer[this.pos - 2]!;
  }
  get size(): number {
    return this.buffer[this.pos - 1]!;
  }
  next(): void {
    this.pos -= 4;
  }
  fork(): BufferCursor {
    return new Int32BufferCursor(this.buffer, this.pos);
  }
}

const topType = parser.nodeSet.types[N.Script];
/** The buffer parses write into (Tree.build copies what it keeps), grown as needed. */
let scratch = new Int32Array(1 << 16);

/**
 * Whether the tree in `buffer` (postfix records of 4) nests deeper than `limit`: one pass from the
 * end, with the start of each enclosing node on a stack.
 */
function deeperThan(buffer: Int32Array, length: number, limit: number): boolean {
  const starts: number[] = [];
  for (let i = length - 4; i >= 0; i -= 4) {
    while (starts.length > 0 && starts[starts.length - 1]! > i) starts.pop();
    const size = buffer[i + 3]!;
    if (size > 4 && starts.push(i + 4 - size) >= limit) return true;
  }
  return false;
}

/**
 * The Lezer tree of `code`, built by the fast front end, or null where it does not handle the
 * code (then parse with Lezer). A tree it gives is within parse-python.ts's nesting limits (at
 * most `maxDepth` levels, fewer open brackets and blocks than there).
 */
export function fastParsePython(code: string, maxDepth = Infinity): Tree | null {
  try {
    const tokens = tokenizePython(code);
    const fast = new FastParser(code, tokens);
    fast.script();
    if (topType === undefined || deeperThan(fast.buf, fast.n, maxDepth)) return null;
    return Tree.build({
      buffer: new Int32BufferCursor(fast.buf, fast.n),
      nodeSet: parser.nodeSet,
      topID: N.Script,
      length: code.length,
    });
  } catch (error) {
    if (error === GIVE_UP) return null;
    if (error instanceof RangeError) return null;
    throw error;
  }
}
