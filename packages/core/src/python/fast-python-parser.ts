/**
 * The fast front end of the Python parser: recursive descent (precedence climbing for operators)
 * over fast-python-tokens.ts's tokens, building exactly the Lezer tree that core's generated
 * parser (grammar/python.grammar) builds for the same text: the same node types, positions and
 * nesting, including Lezer's own readings where they differ from CPython's (`not a and b` is
 * `not (a and b)`, `await` takes a whole arithmetic expression). The tree is written as Lezer's
 * flat postfix buffer (type, from, to, size per node), then turned into the tree (`treeOf`).
 *
 * Nodes span their first to their last token; a comment belongs to the innermost node whose
 * tokens enclose it (Lezer moves skipped tokens out of a node that ends before them). Anything it
 * does not reproduce exactly makes it give up (`null`), and parse-python.ts parses with Lezer.
 * test/python-conformance/fast-parser-identity.test.ts compares both on real code and mutants.
 */
import { NodeProp, Tree, TreeBuffer, type BufferCursor } from '@lezer/common';
import { parser } from './grammar/python-parser.generated.js';
import { GIVE_UP, Tok, tokenizePython } from './fast-python-tokens.js';
import { startsTest } from './fast-python-expressions.js';
import { NodeId } from './fast-python-nodes.js';
import { PatternParser } from './fast-python-patterns.js';

/** Statements, over the patterns and expressions. */
class FastParser extends PatternParser {
  // ---- statements ------------------------------------------------------------------------------

  script(): void {
    while (this.t() !== Tok.Eof) this.statement();
    // The rest of the comments.
    const c = this.comments;
    while (this.ci < c.length) {
      this.record(NodeId.Comment, c[this.ci]!, c[this.ci + 1]!, 4);
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
        this.leaf(NodeId.Semicolon);
        const k = this.t();
        if (k === Tok.Newline || k === Tok.Eof || k === Tok.Semicolon) continue;
        this.smallStatement();
      }
      this.endOfLine();
      this.finish(NodeId.StatementGroup, from, m);
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
        return this.keywordStatement(NodeId.PassStatement, Tok.Pass);
      case Tok.Break:
        return this.keywordStatement(NodeId.BreakStatement, Tok.Break);
      case Tok.Continue:
        return this.keywordStatement(NodeId.ContinueStatement, Tok.Continue);
      case Tok.Del: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Del);
        this.commaSep(() => this.expression(), false);
        return this.finish(NodeId.DeleteStatement, from, m);
      }
      case Tok.Return: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Return);
        if (startsTest(this.t()) || this.t() === Tok.Star)
          this.commaSep(() => this.testOrStar(), true);
        return this.finish(NodeId.ReturnStatement, from, m);
      }
      case Tok.Yield: {
        const m = this.mark();
        const from = this.from();
        this.yieldBody();
        return this.finish(NodeId.YieldStatement, from, m);
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
        this.commaSep(() => this.expect(Tok.Name, NodeId.VariableName), false);
        return this.finish(NodeId.ScopeStatement, from, m);
      }
      case Tok.Assert: {
        const m = this.mark();
        const from = this.from();
        this.leaf(Tok.Assert);
        this.commaSep(() => this.test(), false);
        return this.finish(NodeId.AssertStatement, from, m);
      }
      case Tok.Name:
        if (this.peek(1) === Tok.Name && this.is('type')) return this.typeDefinition();
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
      this.leaf(NodeId.UpdateOp);
      if (this.t() === Tok.Yield) this.yieldExpression();
      else this.commaSep(() => this.test(), true);
      return this.finish(NodeId.UpdateStatement, from, m);
    }
    if (k === Tok.Colon || k === Tok.Assign) {
      if (k === Tok.Colon) this.typeDef();
      while (this.t() === Tok.Assign) {
        this.leaf(NodeId.AssignOp);
        if (this.t() === Tok.Yield) this.yieldExpression();
        else this.expressions();
      }
      return this.finish(NodeId.AssignStatement, from, m);
    }
    this.finish(NodeId.ExpressionStatement, from, m);
  }

  private typeDef(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.Colon);
    this.test();
    this.finish(NodeId.TypeDef, from, m);
  }

  private typeDefinition(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.TypeKeyword);
    this.expect(Tok.Name, NodeId.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    if (this.t() !== Tok.Assign) throw GIVE_UP;
    this.skip();
    this.test();
    this.finish(NodeId.TypeDefinition, from, m);
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
        this.leaf(NodeId.Comma);
        this.test();
        if (this.t() === Tok.Comma) {
          this.leaf(NodeId.Comma);
          this.test();
        }
      }
    }
    this.finish(NodeId.RaiseStatement, from, m);
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
        this.leaf(this.t() === Tok.Dot ? NodeId.Dot : Tok.Ellipsis);
        dots = true;
      }
      if (!dots || this.t() === Tok.Name) this.dottedName();
      this.expect(Tok.Import, Tok.Import);
      if (this.t() === Tok.Star) this.leaf(NodeId.Star);
      else this.importedNamesOrList();
    }
    this.finish(NodeId.ImportStatement, from, m);
  }

  private importedNamesOrList(): void {
    if (this.t() === Tok.LParen) {
      this.leaf(NodeId.LParen);
      this.importedNames();
      this.expect(Tok.RParen, NodeId.RParen);
    } else this.importedNames();
  }

  private importedNames(): void {
    for (;;) {
      this.dottedName();
      if (this.t() === Tok.As) {
        this.leaf(Tok.As);
        this.expect(Tok.Name, NodeId.VariableName);
      }
      if (this.t() !== Tok.Comma) return;
      this.leaf(NodeId.Comma);
      if (this.t() !== Tok.Name) return;
    }
  }

  private dottedName(): void {
    this.expect(Tok.Name, NodeId.VariableName);
    while (this.t() === Tok.Dot) {
      this.leaf(NodeId.Dot);
      this.expect(Tok.Name, NodeId.VariableName);
    }
  }

  // ---- compound statements ---------------------------------------------------------------------

  private body(): void {
    const m = this.mark();
    const from = this.from();
    this.expect(Tok.Colon, NodeId.Colon);
    if (this.t() === Tok.Newline) {
      this.skip();
      if (this.t() !== Tok.Indent) throw GIVE_UP;
      this.skipEmpty();
      do this.statement();
      while (this.t() !== Tok.Dedent && this.t() !== Tok.Eof);
      if (this.t() === Tok.Dedent) this.skipEmpty();
    } else this.simpleStatement();
    this.finish(NodeId.Body, from, m);
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
    this.finish(NodeId.IfStatement, from, m);
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
    this.finish(NodeId.WhileStatement, from, m);
  }

  private forStatement(m: number, from: number): void {
    if (this.t() === Tok.Async) this.leaf(Tok.Async);
    this.expect(Tok.For, Tok.For);
    this.commaSep(() => {
      if (this.t() === Tok.Star) this.leaf(NodeId.Star);
      this.expression();
    }, true);
    this.expect(Tok.In, Tok.In);
    this.commaSep(() => this.testOrStar(), true);
    this.body();
    this.elseClause();
    this.finish(NodeId.ForStatement, from, m);
  }

  private tryStatement(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Try);
    this.body();
    while (this.t() === Tok.Except) {
      this.leaf(Tok.Except);
      if (this.t() === Tok.Star) this.leaf(NodeId.Star);
      if (this.t() !== Tok.Colon) {
        this.test();
        if (this.t() === Tok.As || this.t() === Tok.Comma) {
          this.leaf(this.t() === Tok.As ? Tok.As : NodeId.Comma);
          this.expect(Tok.Name, NodeId.VariableName);
        }
      }
      this.body();
    }
    this.elseClause();
    if (this.t() === Tok.Finally) {
      this.leaf(Tok.Finally);
      this.body();
    }
    this.finish(NodeId.TryStatement, from, m);
  }

  private withStatement(m: number, from: number): void {
    if (this.t() === Tok.Async) this.leaf(Tok.Async);
    this.expect(Tok.With, Tok.With);
    if (this.t() === Tok.LParen && this.isWithItemList()) {
      this.leaf(NodeId.LParen);
      this.commaSep(() => this.withItem(), true);
      this.expect(Tok.RParen, NodeId.RParen);
    } else this.commaSep(() => this.withItem(), true);
    this.body();
    this.finish(NodeId.WithStatement, from, m);
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
    this.expect(Tok.Name, NodeId.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    this.paramList();
    if (this.t() === Tok.Arrow) {
      const m2 = this.mark();
      const from2 = this.from();
      this.skip();
      this.test();
      this.finish(NodeId.ReturnTypeDef, from2, m2);
    }
    this.body();
    this.finish(NodeId.FunctionDefinition, from, m);
  }

  private paramList(): void {
    const m = this.mark();
    const from = this.from();
    this.expect(Tok.LParen, NodeId.LParen);
    while (this.t() !== Tok.RParen) {
      switch (this.t()) {
        case Tok.Name:
          this.leaf(NodeId.VariableName);
          if (this.t() === Tok.Colon) this.typeDef();
          if (this.t() === Tok.Assign) {
            this.leaf(NodeId.ParamAssignOp);
            this.test();
          }
          break;
        case Tok.Star:
          this.leaf(NodeId.Star);
          if (this.t() === Tok.Name) {
            this.leaf(NodeId.VariableName);
            if (this.t() === Tok.Colon) {
              if (this.peek(1) === Tok.Star) {
                const m2 = this.mark();
                const from2 = this.from();
                this.leaf(NodeId.Colon);
                this.leaf(NodeId.Star);
                this.expression();
                this.finish(NodeId.StarTypeDef, from2, m2);
              } else this.typeDef();
            }
          }
          break;
        case Tok.DoubleStar:
          this.leaf(NodeId.DoubleStar);
          this.expect(Tok.Name, NodeId.VariableName);
          if (this.t() === Tok.Colon) this.typeDef();
          break;
        case Tok.Slash:
          this.skip();
          break;
        default:
          throw GIVE_UP;
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
    }
    this.expect(Tok.RParen, NodeId.RParen);
    this.finish(NodeId.ParamList, from, m);
  }

  private typeParamList(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LBracket);
    for (;;) {
      const m2 = this.mark();
      const from2 = this.from();
      if (this.t() === Tok.Star || this.t() === Tok.DoubleStar) {
        this.leaf(this.t() === Tok.Star ? NodeId.Star : NodeId.DoubleStar);
        this.expect(Tok.Name, NodeId.VariableName);
      } else {
        this.expect(Tok.Name, NodeId.VariableName);
        if (this.t() === Tok.Colon) this.typeDef();
      }
      this.finish(NodeId.TypeParam, from2, m2);
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.RBracket) break;
    }
    this.expect(Tok.RBracket, NodeId.RBracket);
    this.finish(NodeId.TypeParamList, from, m);
  }

  private classDefinition(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(Tok.Class);
    this.expect(Tok.Name, NodeId.VariableName);
    if (this.t() === Tok.LBracket) this.typeParamList();
    if (this.t() === Tok.LParen) this.argList();
    this.body();
    this.finish(NodeId.ClassDefinition, from, m);
  }

  private decoratedStatement(): void {
    const m = this.mark();
    const from = this.from();
    while (this.t() === Tok.At) {
      const m2 = this.mark();
      const from2 = this.from();
      this.leaf(NodeId.DecoratorAt);
      this.testNamed();
      if (this.t() !== Tok.Newline) throw GIVE_UP;
      this.skip();
      this.finish(NodeId.Decorator, from2, m2);
    }
    const m3 = this.mark();
    const from3 = this.from();
    if (this.t() === Tok.Class) this.classDefinition();
    else if (this.t() === Tok.Def || (this.t() === Tok.Async && this.peek(1) === Tok.Def))
      this.functionDefinition(m3, from3);
    else throw GIVE_UP;
    this.finish(NodeId.DecoratedStatement, from, m);
  }

  /** `match` starting a match statement: its line ends with `:`, and it is not a name used. */
  private isMatchStatement(): boolean {
    if (!this.is('match')) return false;
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
    this.leaf(NodeId.MatchKeyword);
    const m2 = this.mark();
    const from2 = this.from();
    const star = this.t() === Tok.Star;
    if (star) {
      this.leaf(NodeId.Star);
      this.expression();
    } else this.testNamed();
    if (this.t() === Tok.Comma) {
      while (this.t() === Tok.Comma) {
        this.leaf(NodeId.Comma);
        if (this.t() === Tok.Colon) break;
        if (this.t() === Tok.Star) {
          this.leaf(NodeId.Star);
          this.expression();
        } else this.testNamed();
      }
      this.finish(NodeId.MatchTuple, from2, m2);
    } else if (star) throw GIVE_UP;
    const m3 = this.mark();
    const from3 = this.from();
    this.expect(Tok.Colon, NodeId.Colon);
    if (this.t() !== Tok.Newline) throw GIVE_UP;
    this.skip();
    if (this.t() !== Tok.Indent) throw GIVE_UP;
    this.skipEmpty();
    do this.matchClause();
    while (this.t() !== Tok.Dedent && this.t() !== Tok.Eof);
    if (this.t() === Tok.Dedent) this.skipEmpty();
    this.finish(NodeId.MatchBody, from3, m3);
    this.finish(NodeId.MatchStatement, from, m);
  }

  private matchClause(): void {
    if (this.t() !== Tok.Name || !this.is('case')) throw GIVE_UP;
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.CaseKeyword);
    this.pattern();
    while (this.t() === Tok.Comma) {
      this.leaf(NodeId.Comma);
      if (this.t() === Tok.If || this.t() === Tok.Colon) break;
      this.pattern();
    }
    if (this.t() === Tok.If) {
      const m2 = this.mark();
      const from2 = this.from();
      this.leaf(Tok.If);
      this.test();
      this.finish(NodeId.Guard, from2, m2);
    }
    this.body();
    this.finish(NodeId.MatchClause, from, m);
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

const topType = parser.nodeSet.types[NodeId.Script];

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
 * Set on the top of every tree the fast front end builds: such a tree has no error node. A prop
 * of the tree itself, rather than a weak set of trees, which every look-up and collection pays for.
 */
export const builtByFastParser = new NodeProp<boolean>({ perNode: true });
const BUILT_BY_FAST_PARSER: [NodeProp<boolean>, boolean][] = [[builtByFastParser, true]];

/** The largest position and buffer index a `TreeBuffer` holds (16 bits). */
const MAX_TREE_BUFFER = 0xffff;

/**
 * The tree of the postfix records in `buffer` (its first `written` entries) over a text `length`
 * long. Most cells fit one `TreeBuffer` under the top node: the same records in prefix order, each
 * with the index where its subtree ends. A subtree takes the same span of the buffer in either
 * order, but in prefix order each enclosing node comes before it: a record moves to its subtree's
 * start plus one record per enclosing node (found with a stack of their starts, from the end).
 * Larger texts go through Lezer's `Tree.build`. Either tree reads alike through Lezer's nodes and
 * cursors.
 */
function treeOf(buffer: Int32Array, written: number, length: number): Tree {
  if (length > MAX_TREE_BUFFER || written > MAX_TREE_BUFFER) {
    const built = Tree.build({
      buffer: new Int32BufferCursor(buffer, written),
      nodeSet: parser.nodeSet,
      topID: NodeId.Script,
      length,
    });
    return new Tree(built.type, built.children, built.positions, length, BUILT_BY_FAST_PARSER);
  }
  if (written === 0) return new Tree(topType!, [], [], length, BUILT_BY_FAST_PARSER);
  const prefix = new Uint16Array(written);
  const starts: number[] = [];
  for (let at = written - 4; at >= 0; at -= 4) {
    while (starts.length > 0 && starts[starts.length - 1]! > at) starts.pop();
    const size = buffer[at + 3]!;
    const start = at + 4 - size;
    const place = start + 4 * starts.length;
    prefix[place] = buffer[at]!;
    prefix[place + 1] = buffer[at + 1]!;
    prefix[place + 2] = buffer[at + 2]!;
    prefix[place + 3] = place + size;
    if (size > 4) starts.push(start);
  }
  // The group's length: where its last node (the last record) ends.
  const nodes = new TreeBuffer(prefix, buffer[written - 2]!, parser.nodeSet);
  return new Tree(topType!, [nodes], [0], length, BUILT_BY_FAST_PARSER);
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
    return treeOf(fast.buf, fast.n, code.length);
  } catch (error) {
    if (error === GIVE_UP) return null;
    if (error instanceof RangeError) return null;
    throw error;
  }
}
