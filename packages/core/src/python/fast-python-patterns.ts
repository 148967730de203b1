/** The patterns of `match` statements, for the fast Python front end (fast-python-parser.ts). */
import { GIVE_UP, Tok } from './fast-python-tokens.js';
import { ExpressionParser } from './fast-python-expressions.js';
import { NodeId } from './fast-python-nodes.js';

/** Patterns: `|` over `as` over the primary patterns, as Lezer's precedences order them. */
export class PatternParser extends ExpressionParser {
  // ---- patterns --------------------------------------------------------------------------------

  protected pattern(): void {
    this.enter();
    const m = this.mark();
    const from = this.from();
    this.asPattern();
    if (this.t() === Tok.Pipe) {
      while (this.t() === Tok.Pipe) {
        this.leaf(NodeId.LogicOp);
        this.asPattern();
      }
      this.finish(NodeId.OrPattern, from, m);
    }
    this.depth--;
  }

  protected asPattern(): void {
    const m = this.mark();
    const from = this.from();
    this.primaryPattern();
    while (this.t() === Tok.As) {
      this.leaf(Tok.As);
      this.expect(Tok.Name, NodeId.VariableName);
      this.finish(NodeId.AsPattern, from, m);
    }
  }

  protected primaryPattern(): void {
    const m = this.mark();
    const from = this.from();
    switch (this.t()) {
      case Tok.Star:
        this.leaf(NodeId.Star);
        this.enter();
        this.primaryPattern();
        this.depth--;
        return this.finish(NodeId.StarPattern, from, m);
      case Tok.Name:
        if (this.peek(1) === Tok.Dot) {
          this.attributePattern();
          if (this.t() === Tok.LParen) {
            this.patternArgList();
            this.finish(NodeId.ClassPattern, from, m);
          }
          return;
        }
        this.leaf(NodeId.VariableName);
        if (this.t() === Tok.LParen) {
          this.patternArgList();
          return this.finish(NodeId.ClassPattern, from, m);
        }
        return this.finish(NodeId.CapturePattern, from, m);
      case Tok.LBracket:
        return this.sequencePattern(Tok.RBracket, NodeId.LBracket, NodeId.RBracket);
      case Tok.LParen:
        return this.sequencePattern(Tok.RParen, NodeId.LParen, NodeId.RParen);
      case Tok.LBrace:
        return this.mappingPattern();
      default:
        return this.literalPattern();
    }
  }

  protected attributePattern(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.VariableName);
    while (this.t() === Tok.Dot) {
      this.leaf(NodeId.Dot);
      this.propertyName();
    }
    this.finish(NodeId.AttributePattern, from, m);
  }

  protected literalPattern(): void {
    const m = this.mark();
    const from = this.from();
    switch (this.t()) {
      case Tok.Minus:
      case Tok.Number:
        if (this.t() === Tok.Minus) this.leaf(NodeId.PatternSign);
        this.expect(Tok.Number, NodeId.Number);
        if ((this.t() === Tok.Plus || this.t() === Tok.Minus) && this.peek(1) === Tok.Number) {
          this.leaf(NodeId.PatternArith);
          this.leaf(NodeId.Number);
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
    this.finish(NodeId.LiteralPattern, from, m);
  }

  protected sequencePattern(close: number, open: number, closeType: number): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(open);
    if (this.t() !== close) {
      this.pattern();
      while (this.t() === Tok.Comma) {
        this.leaf(NodeId.Comma);
        if (this.t() === close) break;
        this.pattern();
      }
    }
    this.expect(close, closeType);
    this.finish(NodeId.SequencePattern, from, m);
  }

  protected mappingPattern(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LBrace);
    while (this.t() !== Tok.RBrace) {
      if (this.t() === Tok.DoubleStar) {
        this.leaf(NodeId.DoubleStar);
        this.pattern();
      } else {
        if (this.t() === Tok.Name) {
          if (this.peek(1) === Tok.Dot) this.attributePattern();
          else this.leaf(NodeId.VariableName);
        } else this.literalPattern();
        this.expect(Tok.Colon, NodeId.Colon);
        this.pattern();
      }
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
    }
    this.expect(Tok.RBrace, NodeId.RBrace);
    this.finish(NodeId.MappingPattern, from, m);
  }

  protected patternArgList(): void {
    const m = this.mark();
    const from = this.from();
    this.leaf(NodeId.LParen);
    let first = true;
    while (this.t() !== Tok.RParen) {
      if (this.t() === Tok.Name && this.peek(1) === Tok.Assign) {
        const m2 = this.mark();
        const from2 = this.from();
        this.leaf(NodeId.VariableName);
        this.skip();
        this.pattern();
        this.finish(first ? NodeId.KeywordPatternFirst : NodeId.KeywordPatternLater, from2, m2);
      } else this.pattern();
      first = false;
      if (this.t() !== Tok.Comma) break;
      this.leaf(NodeId.Comma);
    }
    this.expect(Tok.RParen, NodeId.RParen);
    this.finish(NodeId.PatternArgList, from, m);
  }
}
