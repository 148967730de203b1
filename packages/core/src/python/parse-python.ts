/**
 * The one entry to the Python parser, with a bounded cache of syntax trees by source text: an
 * editor re-analyses the whole notebook on every keystroke, and only the edited cell has changed.
 * Trees are immutable, so sharing them is safe. The parser is core's own build of the Lezer
 * Python grammar (grammar/python.grammar says what it accepts beyond @lezer/python's).
 */
import type { Tree } from '@lezer/common';
import { parser } from './grammar/python-parser.generated.js';

const MAX_TREES = 4096;
const trees = new Map<string, Tree>();

export function parsePython(code: string): Tree {
  const cached = trees.get(code);
  if (cached !== undefined) {
    // Refresh its place so the least recently used tree is evicted first.
    trees.delete(code);
    trees.set(code, cached);
    return cached;
  }
  const tree = parser.parse(code);
  trees.set(code, tree);
  if (trees.size > MAX_TREES) {
    const oldest = trees.keys().next();
    if (oldest.done !== true) trees.delete(oldest.value);
  }
  return tree;
}
