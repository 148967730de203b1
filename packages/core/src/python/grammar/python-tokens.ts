/**
 * External tokenizers and the indentation context for python.grammar. Ported from @lezer/python
 * 1.1.19's src/tokens.js (MIT License, Copyright (C) 2020 by Marijn Haverbeke and others); the
 * Python 2 `print` statement tokenizer is gone, and form feeds count as CPython counts them: a
 * line of only whitespace is blank, and a form feed in the indentation resets the column to 0.
 */
import { ContextTracker, ExternalTokenizer, type InputStream } from '@lezer/lr';
import {
  newline as newlineToken,
  eof,
  newlineBracketed,
  blankLineStart,
  indent,
  dedent,
  ParenthesizedExpression,
  TupleExpression,
  ComprehensionExpression,
  PatternArgList,
  SequencePattern,
  MappingPattern,
  TypeParamList,
  ArrayExpression,
  ArrayComprehensionExpression,
  ArgList,
  ParamList,
  importList,
  withItemList,
  subscript,
  DictionaryExpression,
  DictionaryComprehensionExpression,
  SetExpression,
  SetComprehensionExpression,
  String as StringTerm,
  FormatString,
  FormatReplacement,
  nestedFormatReplacement,
  stringStart,
  stringStartD,
  stringStartL,
  stringStartLD,
  stringStartR,
  stringStartRD,
  stringStartRL,
  stringStartRLD,
  stringStartF,
  stringStartFD,
  stringStartFL,
  stringStartFLD,
  stringStartFR,
  stringStartFRD,
  stringStartFRL,
  stringStartFRLD,
  stringContent,
  Escape,
  replacementStart,
  stringEnd,
  ParenL,
  BraceL,
  BracketL,
} from './python-parser.terms.generated.js';

const newline = 10,
  carriageReturn = 13,
  space = 32,
  tab = 9,
  formFeed = 12,
  hash = 35,
  braceOpen = 123,
  braceClose = 125,
  singleQuote = 39,
  doubleQuote = 34,
  backslash = 92,
  letterO = 111,
  letterX = 120,
  letterN = 78,
  letterU = 117,
  letterUpperU = 85;

const bracketed = new Set([
  ParenthesizedExpression,
  TupleExpression,
  ComprehensionExpression,
  importList,
  withItemList,
  ArgList,
  ParamList,
  ArrayExpression,
  ArrayComprehensionExpression,
  subscript,
  SetExpression,
  SetComprehensionExpression,
  FormatString,
  FormatReplacement,
  nestedFormatReplacement,
  DictionaryExpression,
  DictionaryComprehensionExpression,
  SequencePattern,
  MappingPattern,
  PatternArgList,
  TypeParamList,
]);

function isLineBreak(ch: number): boolean {
  return ch === newline || ch === carriageReturn;
}

function isHex(ch: number): boolean {
  return (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 70) || (ch >= 97 && ch <= 102);
}

// Flags of an indentation context.
const cxBracketed = 1,
  cxString = 2,
  cxDoubleQuote = 4,
  cxLong = 8,
  cxRaw = 16,
  cxFormat = 32;

class IndentContext {
  readonly hash: number;
  constructor(
    readonly parent: IndentContext | null,
    readonly indent: number,
    readonly flags: number,
  ) {
    this.hash =
      (parent ? (parent.hash + parent.hash) << 8 : 0) +
      indent +
      (indent << 4) +
      flags +
      (flags << 6);
  }
}

const topIndent = new IndentContext(null, 0, 0);

/** CPython's column rule: tabs to the next multiple of 8, a form feed back to 0. */
function countIndent(input: InputStream, length: number): number {
  let depth = 0;
  for (let i = 0; i < length; i++) {
    const ch = input.peek(i);
    if (ch === tab) depth += 8 - (depth % 8);
    else if (ch === formFeed) depth = 0;
    else depth++;
  }
  return depth;
}

export const newlines = new ExternalTokenizer(
  (input, stack) => {
    let prev: number;
    if (input.next < 0) {
      input.acceptToken(eof);
    } else if ((stack.context as IndentContext).flags & cxBracketed) {
      if (isLineBreak(input.next)) input.acceptToken(newlineBracketed, 1);
    } else if (
      ((prev = input.peek(-1)) < 0 || isLineBreak(prev)) &&
      stack.canShift(blankLineStart)
    ) {
      let spaces = 0;
      while (input.next === space || input.next === tab || input.next === formFeed) {
        input.advance();
        spaces++;
      }
      if (input.next === newline || input.next === carriageReturn || input.next === hash)
        input.acceptToken(blankLineStart, -spaces);
    } else if (isLineBreak(input.next)) {
      input.acceptToken(newlineToken, 1);
    }
  },
  { contextual: true },
);

export const indentation = new ExternalTokenizer((input, stack) => {
  const context = stack.context as IndentContext;
  if (context.flags) return;
  const prev = input.peek(-1);
  if (prev === newline || prev === carriageReturn) {
    let depth = 0,
      chars = 0;
    for (;;) {
      if (input.next === space) depth++;
      else if (input.next === tab) depth += 8 - (depth % 8);
      else if (input.next === formFeed) depth = 0;
      else break;
      input.advance();
      chars++;
    }
    if (
      depth !== context.indent &&
      input.next !== newline &&
      input.next !== carriageReturn &&
      input.next !== hash
    ) {
      if (depth < context.indent) input.acceptToken(dedent, -chars);
      else input.acceptToken(indent);
    }
  }
});

const stringFlags = new Map<number, number>(
  (
    [
      [stringStart, 0],
      [stringStartD, cxDoubleQuote],
      [stringStartL, cxLong],
      [stringStartLD, cxLong | cxDoubleQuote],
      [stringStartR, cxRaw],
      [stringStartRD, cxRaw | cxDoubleQuote],
      [stringStartRL, cxRaw | cxLong],
      [stringStartRLD, cxRaw | cxLong | cxDoubleQuote],
      [stringStartF, cxFormat],
      [stringStartFD, cxFormat | cxDoubleQuote],
      [stringStartFL, cxFormat | cxLong],
      [stringStartFLD, cxFormat | cxLong | cxDoubleQuote],
      [stringStartFR, cxFormat | cxRaw],
      [stringStartFRD, cxFormat | cxRaw | cxDoubleQuote],
      [stringStartFRL, cxFormat | cxRaw | cxLong],
      [stringStartFRLD, cxFormat | cxRaw | cxLong | cxDoubleQuote],
    ] as const
  ).map(([term, flags]) => [term, flags | cxString]),
);

export const trackIndent = new ContextTracker<IndentContext>({
  start: topIndent,
  reduce(context, term) {
    if (
      (context.flags & cxBracketed && bracketed.has(term)) ||
      ((term === StringTerm || term === FormatString) && context.flags & cxString)
    )
      return context.parent ?? topIndent;
    return context;
  },
  shift(context, term, stack, input) {
    if (term === indent)
      // `input` stands at the indent token's start, `stack` at its end.
      return new IndentContext(context, countIndent(input, stack.pos - input.pos), 0);
    if (term === dedent) return context.parent ?? topIndent;
    if (term === ParenL || term === BracketL || term === BraceL || term === replacementStart)
      return new IndentContext(context, 0, cxBracketed);
    const flags = stringFlags.get(term);
    if (flags !== undefined)
      return new IndentContext(context, 0, flags | (context.flags & cxBracketed));
    return context;
  },
  hash(context) {
    return context.hash;
  },
});

export const strings = new ExternalTokenizer((input, stack) => {
  const { flags } = stack.context as IndentContext;
  const quote = flags & cxDoubleQuote ? doubleQuote : singleQuote;
  const long = (flags & cxLong) > 0;
  const escapes = !(flags & cxRaw);
  const format = (flags & cxFormat) > 0;

  const start = input.pos;
  for (;;) {
    if (input.next < 0) {
      break;
    } else if (format && input.next === braceOpen) {
      if (input.peek(1) === braceOpen) {
        input.advance(2);
      } else {
        if (input.pos === start) {
          input.acceptToken(replacementStart, 1);
          return;
        }
        break;
      }
    } else if (escapes && input.next === backslash) {
      if (input.pos === start) {
        input.advance();
        const escaped = input.next;
        if (escaped >= 0) {
          input.advance();
          skipEscape(input, escaped);
        }
        input.acceptToken(Escape);
        return;
      }
      break;
    } else if (input.next === backslash && !escapes && input.peek(1) > -1) {
      // Raw strings still ignore escaped quotes.
      input.advance(2);
    } else if (
      input.next === quote &&
      (!long || (input.peek(1) === quote && input.peek(2) === quote))
    ) {
      if (input.pos === start) {
        input.acceptToken(stringEnd, long ? 3 : 1);
        return;
      }
      break;
    } else if (input.next === newline) {
      if (long) {
        input.advance();
      } else if (input.pos === start) {
        input.acceptToken(stringEnd);
        return;
      }
      break;
    } else {
      input.advance();
    }
  }
  if (input.pos > start) input.acceptToken(stringContent);
});

function skipEscape(input: InputStream, ch: number): void {
  if (ch === letterO) {
    for (let i = 0; i < 2 && input.next >= 48 && input.next <= 55; i++) input.advance();
  } else if (ch === letterX) {
    for (let i = 0; i < 2 && isHex(input.next); i++) input.advance();
  } else if (ch === letterU) {
    for (let i = 0; i < 4 && isHex(input.next); i++) input.advance();
  } else if (ch === letterUpperU) {
    for (let i = 0; i < 8 && isHex(input.next); i++) input.advance();
  } else if (ch === letterN) {
    if (input.next !== braceOpen) return;
    let next = input.advance();
    while (
      next >= 0 &&
      next !== braceClose &&
      next !== singleQuote &&
      next !== doubleQuote &&
      next !== newline
    )
      next = input.advance();
    if (next === braceClose) input.advance();
  }
}
