/**
 * A seeded generator of malformed and adversarial notebooks (issue 19's fuzz test): byte flips,
 * truncations, deep nesting in Python and in JSON, huge names, tags and cells, and odd types in
 * every field. The same seed gives the same cases.
 */

/** mulberry32: a small, fast, seedable pseudo-random generator. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AdversarialCase {
  /** What was done to the notebook, to reproduce a failure. */
  readonly label: string;
  readonly bytes: Uint8Array;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class Picker {
  constructor(readonly random: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  /** Mostly small, sometimes very large: sizes spread over orders of magnitude. */
  size(max: number): number {
    return Math.floor(Math.exp(this.random() * Math.log(max)));
  }
  of<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}

const ODD_VALUES = (p: Picker): Json[] => [
  null,
  true,
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER,
  '',
  ' ',
  'step:a',
  '\u0000',
  '\ud800',
  [],
  [null],
  [[['deep']]],
  {},
  { '': null },
  'x'.repeat(p.size(1_000_000)),
  Array.from({ length: p.size(10_000) }, (_, i) => `tag${i}`),
];

/** Python that is long or deeply nested in one of the ways CPython's limits are about. */
function deepPython(p: Picker): string {
  const n = p.size(20_000);
  const terms = (op: string): string => Array.from({ length: n }, (_, i) => `a${i % 7}`).join(op);
  return p.of([
    () => `x = ${'('.repeat(n)}1${')'.repeat(n)}`,
    () => `x = ${'-'.repeat(n)}1`,
    () => `x = ${'['.repeat(n)}${']'.repeat(n)}`,
    () => `x = ${terms(' + ')}`,
    () => `x = ${terms(' * ')}`,
    () => `x = ${terms(' or ')}`,
    () => `x = a0${'.b'.repeat(n)}`,
    () => `x = f${'()'.repeat(n)}`,
    () => `x = ${'not '.repeat(n)}a0`,
    () => `x = ${'lambda: '.repeat(Math.min(n, 3000))}1`,
    () => `x = ${'a0 if a1 else '.repeat(Math.min(n, 3000))}a2`,
    () =>
      Array.from({ length: Math.min(n, 400) }, (_, i) => `${' '.repeat(i)}if a0:\n`).join('') +
      `${' '.repeat(Math.min(n, 400))}pass`,
    () => `x = {${'"k": {'.repeat(Math.min(n, 1000))}${'}'.repeat(Math.min(n, 1000))}}`,
    () => `s = "${'\\'.repeat(n)}"`,
    () => `x = 1 # ${'x'.repeat(n * 50)}`,
  ])();
}

/** JSON nested `depth` levels deep, built without recursion. */
function deepJson(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

function code(source: Json, tags: Json): Record<string, Json> {
  return { cell_type: 'code', metadata: { tags }, source, outputs: [], execution_count: null };
}

/** Sets a random field anywhere in `value` (objects and arrays) to an odd value. */
function replaceRandomField(p: Picker, value: Json): void {
  const containers: (Json[] | { [key: string]: Json })[] = [];
  const stack: Json[] = [value];
  while (stack.length > 0 && containers.length < 5000) {
    const v = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      containers.push(v);
      stack.push(...(Array.isArray(v) ? v : Object.values(v)));
    }
  }
  const target = p.of(containers);
  const odd = p.of(ODD_VALUES(p));
  if (Array.isArray(target)) {
    if (target.length === 0) target.push(odd);
    else target[p.int(0, target.length - 1)] = odd;
  } else {
    const keys = Object.keys(target);
    const key =
      keys.length === 0 || p.random() < 0.2
        ? p.of(['tags', 'cells', 'source', 'cellflow', 'tuning', 'x'])
        : p.of(keys);
    target[key] = odd;
  }
}

/** `count` cases from `bases` (valid notebooks' text), reproducible from `seed`. */
export function adversarialNotebooks(
  bases: readonly string[],
  seed: number,
  count: number,
): AdversarialCase[] {
  const p = new Picker(seededRandom(seed));
  const cases: AdversarialCase[] = [];
  const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
  const generators: ((i: number) => AdversarialCase)[] = [
    (i) => {
      const base = encode(p.of(bases));
      const bytes = Uint8Array.from(base);
      const flips = p.size(64);
      for (let f = 0; f < flips; f++) bytes[p.int(0, bytes.length - 1)] = p.int(0, 255);
      return { label: `#${i} ${flips} byte flips`, bytes };
    },
    (i) => {
      const base = encode(p.of(bases));
      const at = p.int(0, base.length);
      return { label: `#${i} truncated at ${at}`, bytes: base.slice(0, at) };
    },
    (i) => {
      const nb = JSON.parse(p.of(bases)) as { [key: string]: Json };
      for (let k = p.int(1, 4); k > 0; k--) replaceRandomField(p, nb);
      return { label: `#${i} odd types`, bytes: encode(JSON.stringify(nb)) };
    },
    (i) => {
      const source = deepPython(p);
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          code('a0 = a1 = a2 = 1\ndef f(): return f', ['imports']),
          code(source, ['step:deep']),
        ],
      };
      return {
        label: `#${i} deep Python (${source.slice(0, 24)}…)`,
        bytes: encode(JSON.stringify(nb)),
      };
    },
    (i) => {
      const depth = p.size(200_000);
      const where = p.of(['metadata', 'tags', 'source', 'tuning']);
      const object = p.random() < 0.5;
      const fixed = deepJson(depth, object ? '{"a":' : '[', object ? '}' : ']', '1');
      const nb =
        where === 'metadata'
          ? `{"nbformat":4,"nbformat_minor":5,"metadata":${fixed},"cells":[]}`
          : where === 'tuning'
            ? `{"nbformat":4,"nbformat_minor":5,"metadata":{"cellflow":{"tuning":${fixed}}},"cells":[{"cell_type":"code","metadata":{"tags":["step:a"]},"source":"x=1","outputs":[]}]}`
            : `{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","metadata":{"tags":${where === 'tags' ? fixed : '["step:a"]'}},"source":${where === 'source' ? fixed : '"x=1"'},"outputs":[]}]}`;
      return { label: `#${i} JSON nested ${depth} deep in ${where}`, bytes: encode(nb) };
    },
    (i) => {
      const length = p.size(5_000_000);
      const name = p.of(['a', '_', 'Z', '-', 'é', '0'] as const).repeat(length);
      const tag =
        p.of([
          'step:',
          'prev:',
          'image:',
          'env:X=',
          'label:k:',
          'annotation:k:',
          'gpu:',
          'cpu:',
          'timeout:',
          'serve:',
          '',
        ]) + name;
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: p.random() < 0.3 ? { cellflow: { name, image: name } } : {},
        cells: [code('x = 1', [tag]), code('print(x)', ['step:b', `prev:${name.slice(0, 80)}`])],
      };
      return {
        label: `#${i} huge name (${tag.slice(0, 12)}… ${length})`,
        bytes: encode(JSON.stringify(nb)),
      };
    },
    (i) => {
      const lines = p.size(30_000);
      const line = p.of(['x = 1', 'y = x + 1', '%time x', '!echo hi', 'import os', '']);
      const source = Array.from({ length: lines }, () => line).join('\n');
      const nb = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          code(source, ['step:big']),
          code(p.random() < 0.5 ? source.split('\n') : 'print(1)', ['step:big2']),
          {
            cell_type: 'markdown',
            metadata: { tags: ['step:md'] },
            source: 'x'.repeat(p.size(100_000)),
          },
        ],
      };
      return { label: `#${i} huge cells (${lines} lines)`, bytes: encode(JSON.stringify(nb)) };
    },
  ];
  for (let i = 0; i < count; i++) cases.push(p.of(generators)(i));
  return cases;
}
