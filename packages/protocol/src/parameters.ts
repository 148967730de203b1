/**
 * Pipeline parameters at run time: `NAME=VALUE` text from a command line or a value typed into an
 * editor's Deploy, typed against the notebook's parameters cell, and the exact text handed to a
 * step's `--param` flag. Browser-safe.
 */
import type {
  ParameterType,
  ParameterValue,
  PipelineGraph,
  PipelineParameter,
} from '@cellflow/core';
import { BackendError } from './backend.js';

function describeParameters(graph: PipelineGraph): string {
  if (graph.parameters.length === 0) return 'The notebook has no parameters cell.';
  return `The notebook's parameters are: ${graph.parameters.map((p) => `${p.name} (${p.type}, default ${JSON.stringify(p.default)})`).join(', ')}.`;
}

function findParameter(graph: PipelineGraph, name: string): PipelineParameter {
  const found = graph.parameters.find((p) => p.name === name);
  if (found !== undefined) return found;
  const near = graph.parameters.find((p) => p.name.toLowerCase() === name.toLowerCase());
  throw new BackendError(
    'unknown-parameter',
    `Unknown parameter \`${name}\`${near !== undefined ? ` (did you mean \`${near.name}\`?)` : ''}. ${describeParameters(graph)} Fix: use one of those names, or add \`${name} = ...\` to the cell tagged \`pipeline-parameters\`.`,
  );
}

const EXAMPLES: Record<ParameterType, string> = {
  int: '42',
  float: '0.25',
  str: 'text',
  bool: 'true',
  list: '[1, 2, 3]',
  dict: '{"a": 1}',
};

function badValue(p: PipelineParameter, shown: string, why: string): BackendError {
  return new BackendError(
    'bad-parameter',
    `Parameter \`${p.name}\` is ${p.type === 'int' ? 'an' : 'a'} ${p.type} (its default is ${JSON.stringify(p.default)}), so ${shown} does not fit: ${why}. Fix: pass e.g. -p ${p.name}=${EXAMPLES[p.type]}`,
  );
}

/** Reads the text of one value for `p` (`0.3`, `true`, `[1, 2]`). */
export function parseParameterText(p: PipelineParameter, text: string): ParameterValue {
  const shown = `\`${text}\``;
  switch (p.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(text.trim())) throw badValue(p, shown, 'expected a whole number');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw badValue(p, shown, 'the number is too large');
      return n;
    }
    case 'float': {
      const n = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(n)) throw badValue(p, shown, 'expected a number');
      return n;
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(t)) return true;
      if (['false', '0', 'no'].includes(t)) return false;
      throw badValue(p, shown, 'expected true or false');
    }
    case 'str':
      return text;
    case 'list':
    case 'dict': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw badValue(p, shown, `expected JSON such as ${EXAMPLES[p.type]}`);
      }
      return checkParameterValue(p, value as ParameterValue);
    }
  }
}

/** Checks an already-typed value (from an editor or the agent API) against the parameter's type. */
export function checkParameterValue(p: PipelineParameter, value: ParameterValue): ParameterValue {
  const shown = JSON.stringify(value);
  const ok =
    p.type === 'int'
      ? typeof value === 'number' && Number.isSafeInteger(value)
      : p.type === 'float'
        ? typeof value === 'number' && Number.isFinite(value)
        : p.type === 'bool'
          ? typeof value === 'boolean'
          : p.type === 'str'
            ? typeof value === 'string'
            : p.type === 'list'
              ? Array.isArray(value)
              : typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!ok) throw badValue(p, shown, `expected a ${p.type} value`);
  return value;
}

/** `["N=3", "RATE=0.1"]` -> typed values. Throws a `BackendError` naming the parameter and the fix. */
export function parseParameterAssignments(
  graph: PipelineGraph,
  assignments: readonly string[],
): Record<string, ParameterValue> {
  const values: Record<string, ParameterValue> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new BackendError(
        'bad-parameter',
        `\`${assignment}\` is not NAME=VALUE. ${describeParameters(graph)} Fix: write e.g. -p ${graph.parameters[0]?.name ?? 'NAME'}=VALUE`,
      );
    }
    const name = assignment.slice(0, eq).trim();
    values[name] = parseParameterText(findParameter(graph, name), assignment.slice(eq + 1));
  }
  return values;
}

/** Every parameter's value for a run: the given ones (checked) over the notebook's defaults. */
export function resolveRunParameters(
  graph: PipelineGraph,
  given: Readonly<Record<string, ParameterValue>> = {},
): Record<string, ParameterValue> {
  for (const [name, value] of Object.entries(given))
    checkParameterValue(findParameter(graph, name), value);
  return Object.fromEntries(graph.parameters.map((p) => [p.name, given[p.name] ?? p.default]));
}

/** The text a step script's `--param NAME=TEXT` expects for a value (the runtime converts it back). */
export function formatParameterForScript(value: ParameterValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}
