/**
 * The one entry to the Python parser, with a bounded cache of syntax trees by source text: an
 * editor re-analyses the whole notebook on every keystroke, and only the edited cell has changed.
 * Trees are immutable, so sharing them is safe. The parser is core's own build of the Lezer
 * Python grammar (grammar/python.grammar says what it accepts beyond @lezer/python's). A
 * hand-written front end (fast-python-parser.ts) builds the same tree several times faster for
 * the code it handles, and gives up on the rest (syntax errors among it), which Lezer parses.
 *
 * Depth is bounded here, before any walk of the tree: every tree this returns is at most
 * `MAX_SYNTAX_DEPTH` levels deep, so the analyses (which recurse over the tree) stay well inside
 * the JavaScript stack. Code nested deeper, an operator chain longer than that, or more than
 * `MAX_BRACKET_DEPTH` open brackets (CPython's own limit) gets a tree holding only an error node
 * where the nesting goes too deep, and `nestingProblemOf(tree)` says why.
 */
import { Tree } from '@lezer/common';
import { BoundedCache } from './bounded-cache.js';
import { builtByFastParser, fastParsePython } from './fast-python-parser.js';
import { parser } from './grammar/python-parser.generated.js';
import { Script } from './grammar/python-parser.terms.generated.js';

/**
 * Deepest syntax tree analysed. CPython compiles expressions nested up to about 2,990 levels (a
 * chain of 2,990 `+` terms, 2,989 unary minus signs) and refuses deeper ones.
 */
export const MAX_SYNTAX_DEPTH = 3000;
/** CPython's tokenizer refuses more open brackets than this ("too many nested parentheses"). */
export const MAX_BRACKET_DEPTH = 200;
/**
 * Lezer stops a left-associative chain (`a + b + ...`) after 300 reductions that each span more
 * than 2,000 characters, and reports the rest as errors, to keep its trees shallow. Core follows
 * a chain up to this many terms instead, then stops: Lezer builds its tree recursively, and the
 * chain's depth must stay inside the stack. Terms are counted as long reductions once the chain
 * spans 2,000 characters; its earlier terms are estimated from its parse steps, at the rate of
 * reductions per step seen since (at most one term per two steps).
 */
const MAX_CHAIN_TERMS = 2300;
/** How many long reductions at one start Lezer takes for a chain (its cut-off's threshold). */
const LEZER_CHAIN_REDUCTIONS = 300;

/**
 * Lezer cuts its parse stack when it reaches 8,400 entries (3 per frame), turning the rest of a
 * right-nested expression (`-(-(...))`, `x if c else y if ...`, `lambda: lambda: ...`) into errors;
 * a parse whose stack comes near that is stopped and reported as nested too deeply instead.
 */
const PARSE_STACK_LIMIT = 8100;
/** CPython refuses more levels of indentation than this ("too many levels of indentation"). */
export const MAX_INDENTATION_DEPTH = 99;

/**
 * Trees kept: two generations of half as many (bounded-cache.ts). A map that moved each tree used
 * to its end and dropped its first spent milliseconds per notebook skipping the slots deletions
 * leave at a map's start.
 */
const MAX_TREES = 4096;
const trees = new BoundedCache<Tree>(MAX_TREES / 2);

export interface NestingProblem {
  /** Offset in the code where the nesting goes past the limit. */
  readonly offset: number;
  /** What Python would say, and the limit. */
  readonly message: string;
}

const nestingProblems = new WeakMap<Tree, NestingProblem>();

/** Why `tree` holds only an error node, when the code was nested too deeply to analyse. */
export function nestingProblemOf(tree: Tree): NestingProblem | undefined {
  return nestingProblems.get(tree);
}

const TRAILING_BLANK = /\n[ \t\f]+$/;

export function parsePython(code: string): Tree {
  return trees.get(code, () => parseUncached(code));
}

/** Whether `tree` is known to hold no error node (without walking it): the fast front end's. */
export function knownErrorFree(tree: Tree): boolean {
  return tree.prop(builtByFastParser) === true;
}

function parseUncached(text: string): Tree {
  // A last line of only spaces is blank to Python whatever its indent (`return n` then a line
  // of 16 spaces); the grammar would take it as an unexpected indent. Each of its characters
  // becomes a line end instead, so every offset stays where it is.
  const code = TRAILING_BLANK.test(text)
    ? text.replace(/[ \t\f]+$/, (blank) => '\n'.repeat(blank.length))
    : text;
  // The fast front end answers within the nesting limits (the walk below is for Lezer's trees).
  const fast = fastParsePython(code, MAX_SYNTAX_DEPTH);
  if (fast !== null) return fast;
  const parsed = parseWithLezer(code);
  const problem = parsed instanceof Tree ? findNestingProblem(parsed) : parsed;
  return problem === null ? (parsed as Tree) : errorTreeAt(problem, code.length);
}

/**
 * The tree Lezer's parser builds for `code`, or the problem of code nested too deeply to analyse
 * (not cached; parsePython is the entry). The fast front end's trees are compared with these.
 */
export function parseWithLezer(code: string): Tree | NestingProblem {
  return parseAllowingLongChains(code);
}

/** The counters Lezer's parse keeps for its long-chain cut-off (see MAX_LONG_CHAIN_REDUCTIONS). */
interface LongChainCounters {
  bigReductionCount: number;
  lastBigReductionStart: number;
  stacks: readonly { readonly pos: number; readonly stack: readonly number[] }[];
}

/** The tree, or the problem of a chain too long to analyse (then the parse is abandoned). */
function parseAllowingLongChains(code: string): Tree | NestingProblem {
  const parse = parser.startParse(code);
  const counters = parse as unknown as LongChainCounters;
  /** Where each parse step ended (non-decreasing), to count the steps a chain has taken. */
  const stepEnds: number[] = [];
  const chain = { start: -1, earlierSteps: 0, stepsSince: 0, reductions: 0 };
  for (;;) {
    let tree: Tree | null;
    try {
      tree = parse.advance();
    } catch (error) {
      // Lezer's tree building recurses once per level; the bounds below keep it from getting
      // here, and this keeps a misjudged one a diagnostic rather than a crash.
      if (error instanceof RangeError) return deeperThanAnalysed(parse.parsedPos);
      throw error;
    }
    if (tree !== null) return tree;
    stepEnds.push(parse.parsedPos);
    const deep = counters.stacks.find((s) => s.stack.length >= PARSE_STACK_LIMIT);
    if (deep !== undefined) return deeperThanAnalysed(deep.pos);
    if (chain.start !== -1) chain.stepsSince++;
    if (counters.bigReductionCount === 0) continue;
    if (counters.lastBigReductionStart !== chain.start) {
      chain.start = counters.lastBigReductionStart;
      chain.earlierSteps = stepsSince(stepEnds, chain.start);
      chain.stepsSince = 1;
      chain.reductions = 0;
    }
    chain.reductions++;
    // Every term takes at least two steps (an operator and an operand). A few long reductions
    // at one start (statements of a long block) are no chain: judged from Lezer's own threshold.
    const rate = Math.min(0.5, chain.reductions / chain.stepsSince);
    if (
      chain.reductions > LEZER_CHAIN_REDUCTIONS &&
      chain.reductions + chain.earlierSteps * rate > MAX_CHAIN_TERMS
    )
      return {
        offset: chain.start,
        message: `an operator chain of more than ${MAX_CHAIN_TERMS} terms (Python compiles chains of \`+\` or \`*\` up to about 2,990 terms)`,
      };
    counters.bigReductionCount = 0;
  }
}

function deeperThanAnalysed(offset: number): NestingProblem {
  return {
    offset,
    message: `expressions nested more than about ${Math.floor(PARSE_STACK_LIMIT / 3)} parser levels deep (Python refuses them from about 2,990 levels, or 200 brackets)`,
  };
}

/** How many of the steps (their end offsets, non-decreasing) ended after `offset`. */
function stepsSince(stepEnds: readonly number[], offset: number): number {
  let lo = 0;
  let hi = stepEnds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stepEnds[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return stepEnds.length - lo;
}

const OPENING = new Set(['(', '[', '{']);
const CLOSING = new Set([')', ']', '}']);

/** Walks the tree once, without recursion, for the first place nested past either limit. */
function findNestingProblem(tree: Tree): NestingProblem | null {
  const cursor = tree.cursor();
  let depth = 0;
  let brackets = 0;
  /** Depths of the `Body` nodes (indented blocks) around the cursor. */
  const bodies: number[] = [];
  for (;;) {
    if (cursor.name === 'Body' && bodies.push(depth) > MAX_INDENTATION_DEPTH)
      return {
        offset: cursor.from,
        message: `more than ${MAX_INDENTATION_DEPTH} levels of indentation (Python refuses them: "too many levels of indentation")`,
      };
    if (OPENING.has(cursor.name) && ++brackets > MAX_BRACKET_DEPTH)
      return {
        offset: cursor.from,
        message: `more than ${MAX_BRACKET_DEPTH} nested brackets (Python refuses them: "too many nested parentheses")`,
      };
    if (CLOSING.has(cursor.name)) brackets = Math.max(0, brackets - 1);
    if (cursor.firstChild()) {
      if (++depth > MAX_SYNTAX_DEPTH)
        return {
          offset: cursor.from,
          message: `expressions nested more than ${MAX_SYNTAX_DEPTH} levels deep (Python refuses them too: "maximum recursion depth exceeded during compilation")`,
        };
      continue;
    }
    for (;;) {
      if (bodies[bodies.length - 1] === depth) bodies.pop(); // leaving a block
      if (cursor.nextSibling()) break;
      if (!cursor.parent()) return null;
      depth--;
    }
  }
}

/** A script holding one error node at the problem's offset, and the reason for it. */
function errorTreeAt(problem: NestingProblem, length: number): Tree {
  const errorType = parser.nodeSet.types.find((t) => t.isError);
  const scriptType = parser.nodeSet.types[Script];
  if (errorType === undefined || scriptType === undefined)
    throw new Error('the Python grammar has no error or Script node');
  const tree = new Tree(scriptType, [new Tree(errorType, [], [], 0)], [problem.offset], length);
  nestingProblems.set(tree, problem);
  return tree;
}
