/**
 * Reads the parameters cell (`NAME = literal` lines) and the metrics cell (`print(NAME)` lines).
 * Anything else is a diagnostic naming the line, never a guess.
 */
import type { SyntaxNode } from '@lezer/common';
import { excerptOfLine } from '../diagnostics.js';
import { parsePython } from './parse-python.js';

export type ParameterType = 'int' | 'float' | 'str' | 'bool' | 'list' | 'dict';
export type ParameterValue =
  number | string | boolean | ParameterValue[] | { [key: string]: ParameterValue };

export interface ParameterAssignment {
  readonly name: string;
  readonly type: ParameterType;
  readonly value: ParameterValue;
  readonly line: number;
  /** Offsets of the value's source text in the cell (`[from, to)`), for rewriting it in place. */
  readonly valueFrom: number;
  readonly valueTo: number;
  /** Offsets of the whole statement (`NAME = value`) in the cell. */
  readonly from: number;
  readonly to: number;
}

/** `NAME = value` where the value is not a literal: code, not a parameter. */
export interface ComputedAssignment {
  readonly name: string;
  readonly line: number;
  /** The value's text, shortened to one line. */
  readonly value: string;
}

export interface LineProblem {
  readonly line: number;
  readonly message: string;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

/** Top-level statements, with `a = 1; b = 2` groups opened up. */
function statementsOf(top: SyntaxNode): SyntaxNode[] {
  return children(top).flatMap((s) =>
    s.name === 'StatementGroup' ? children(s).filter((c) => c.name !== ';') : [s],
  );
}

function lineOf(code: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (code.charCodeAt(i) === 10) line++;
  return line;
}

/** Decodes one Python string literal token (prefixes r/u, single or triple quotes, escapes). */
export function decodePythonString(token: string): string | undefined {
  const m = /^([rRuU]?)('''|"""|'|")([\s\S]*)\2$/.exec(token);
  if (m === null) return undefined;
  const raw = m[1]!.toLowerCase() === 'r';
  const body = m[3]!;
  if (raw) return body;
  const simple: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '0': '\0',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    '\\': '\\',
    "'": "'",
    '"': '"',
    '\n': '',
  };
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g,
    (whole, esc: string) => {
      if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
      return simple[esc] ?? whole;
    },
  );
}

function parseNumber(text: string): number | undefined {
  const t = text.replace(/_/g, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[oO][0-7]+$/.test(t)) return parseInt(t.slice(2), 8);
  if (/^0[bB][01]+$/.test(t)) return parseInt(t.slice(2), 2);
  if (/^(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(t)) return Number(t);
  return undefined;
}

function isFloatLiteral(text: string): boolean {
  return /[.eE]/.test(text) && !/^0[xX]/.test(text);
}

/** A literal expression's value and type, or undefined when it is not a literal. */
function literal(
  node: SyntaxNode,
  code: string,
): { value: ParameterValue; type: ParameterType } | undefined {
  const text = code.slice(node.from, node.to);
  switch (node.name) {
    case 'Number': {
      const n = parseNumber(text);
      if (n === undefined) return undefined;
      return { value: n, type: isFloatLiteral(text) ? 'float' : 'int' };
    }
    case 'UnaryExpression': {
      const [op, operand] = children(node);
      const inner = operand !== undefined ? literal(operand, code) : undefined;
      const sign = op !== undefined ? code.slice(op.from, op.to) : '';
      if (inner === undefined || typeof inner.value !== 'number' || (sign !== '-' && sign !== '+'))
        return undefined;
      return { value: sign === '-' ? -inner.value : inner.value, type: inner.type };
    }
    case 'String': {
      const s = decodePythonString(text);
      return s === undefined ? undefined : { value: s, type: 'str' };
    }
    case 'ContinuedString': {
      let out = '';
      for (const part of children(node)) {
        const s =
          part.name === 'String' ? decodePythonString(code.slice(part.from, part.to)) : undefined;
        if (s === undefined) return undefined;
        out += s;
      }
      return { value: out, type: 'str' };
    }
    case 'Boolean':
      return { value: text === 'True', type: 'bool' };
    case 'ArrayExpression':
    case 'TupleExpression': {
      const items: ParameterValue[] = [];
      for (const c of children(node)) {
        if (['[', ']', '(', ')', ','].includes(c.name)) continue;
        const v = literal(c, code);
        if (v === undefined) return undefined;
        items.push(v.value);
      }
      return { value: items, type: 'list' };
    }
    case 'DictionaryExpression': {
      const out: Record<string, ParameterValue> = {};
      const parts = children(node).filter((c) => !['{', '}', ','].includes(c.name));
      for (let i = 0; i < parts.length; i += 3) {
        const k = parts[i];
        const colon = parts[i + 1];
        const v = parts[i + 2];
        if (k === undefined || colon?.name !== ':' || v === undefined) return undefined;
        const key = literal(k, code);
        const value = literal(v, code);
        if (key === undefined || typeof key.value !== 'string' || value === undefined)
          return undefined;
        out[key.value] = value.value;
      }
      return { value: out, type: 'dict' };
    }
    case 'ParenthesizedExpression': {
      const inner = children(node).filter((c) => c.name !== '(' && c.name !== ')');
      return inner.length === 1 ? literal(inner[0]!, code) : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * A cell's top-level `NAME = value` statements: those whose value is a literal (the candidates for
 * pipeline parameters) and those whose value is computed. Other statements are left to the caller.
 */
export function readParameterAssignments(code: string): {
  parameters: ParameterAssignment[];
  computed: ComputedAssignment[];
} {
  const parameters: ParameterAssignment[] = [];
  const computed: ComputedAssignment[] = [];
  const top = parsePython(code).topNode;
  for (const stmt of statementsOf(top)) {
    if (stmt.name !== 'AssignStatement') continue;
    const parts = children(stmt);
    const [target, op, value, ...rest] = parts.filter((c) => c.name !== 'TypeDef');
    if (
      target?.name !== 'VariableName' ||
      op?.name !== 'AssignOp' ||
      value === undefined ||
      rest.length > 0
    )
      continue;
    const line = lineOf(code, stmt.from);
    const name = code.slice(target.from, target.to);
    const lit = literal(value, code);
    if (lit === undefined) {
      computed.push({ name, line, value: excerptOfLine(code.slice(value.from, value.to)) });
      continue;
    }
    parameters.push({
      name,
      line,
      ...lit,
      valueFrom: value.from,
      valueTo: value.to,
      from: stmt.from,
      to: stmt.to,
    });
  }
  return { parameters, computed };
}

export interface MetricPrint {
  readonly variable: string;
  readonly line: number;
}

export function readMetricPrints(code: string): {
  metrics: MetricPrint[];
  problems: LineProblem[];
} {
  const metrics: MetricPrint[] = [];
  const problems: LineProblem[] = [];
  const top = parsePython(code).topNode;
  for (const stmt of statementsOf(top)) {
    if (stmt.name === 'Comment') continue;
    const line = lineOf(code, stmt.from);
    const call = stmt.name === 'ExpressionStatement' ? children(stmt)[0] : undefined;
    const [callee, args] = call?.name === 'CallExpression' ? children(call) : [];
    const argNodes =
      args !== undefined ? children(args).filter((c) => c.name !== '(' && c.name !== ')') : [];
    const arg = argNodes[0];
    if (
      callee === undefined ||
      code.slice(callee.from, callee.to) !== 'print' ||
      argNodes.length !== 1 ||
      arg?.name !== 'VariableName'
    ) {
      problems.push({
        line,
        message: `A metrics cell holds only \`print(name)\` lines; this line is \`${excerptOfLine(code.slice(stmt.from, stmt.to).split('\n')[0] ?? '')}\`. Fix: compute the value in a step and print just the variable here.`,
      });
      continue;
    }
    metrics.push({ variable: code.slice(arg.from, arg.to), line });
  }
  return { metrics, problems };
}
