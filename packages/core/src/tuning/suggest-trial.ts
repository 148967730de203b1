/**
 * Local search: the parameter values of a study's next trial, from the study and the results of
 * earlier trials. Pure and seeded: the same study, seed, trial index and results give the same
 * values, so a local study is reproducible however its parallel trials happen to finish.
 *
 * - `random`: uniform (log-uniform on `log` scales), snapped to `step`.
 * - `grid`: every combination in order (ranges walked by `step`, 1 for ints); then the study ends.
 * - `tpe` (also used locally for Katib's model-based algorithms): a Tree-structured Parzen
 *   Estimator, as in hyperopt and Optuna. After a few random start-up trials, results are split into
 *   the best quarter and the rest; each parameter gets a kernel density for both (Gaussians on
 *   ranges, smoothed counts on lists); candidates drawn from the "best" density are scored by the
 *   ratio of the two densities and the highest wins.
 */
import type { SearchParameter, StudySpec, TrialAssignment } from './study-spec.js';

export interface TrialResult {
  readonly parameters: TrialAssignment;
  /** The objective value, or null when the trial failed or reported none. */
  readonly objective: number | null;
}

/** How the local search runs an algorithm (Katib's model-based ones become TPE here). */
export function localAlgorithmOf(study: StudySpec): 'random' | 'grid' | 'tpe' {
  if (study.algorithm === 'random' || study.algorithm === 'sobol') return 'random';
  if (study.algorithm === 'grid') return 'grid';
  return 'tpe';
}

/** A small, fast, seedable generator (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mixSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Every combination grid search walks, in order (first parameter changes slowest). */
export function gridOf(study: StudySpec): TrialAssignment[] {
  const axes = study.parameters.map((p) => gridValuesOf(p));
  const out: TrialAssignment[] = [];
  const walk = (i: number, acc: Record<string, string | number | boolean>): void => {
    if (i === axes.length) {
      out.push({ ...acc });
      return;
    }
    for (const v of axes[i]!) walk(i + 1, { ...acc, [study.parameters[i]!.name]: v });
  };
  if (axes.length > 0) walk(0, {});
  return out;
}

function gridValuesOf(p: SearchParameter): (string | number | boolean)[] {
  if (p.values !== undefined) return [...p.values];
  const min = p.min!;
  const max = p.max!;
  const step = p.step ?? (p.type === 'int' ? 1 : (max - min) / 4);
  if (step <= 0 || min === max) return [min];
  const values: number[] = [];
  for (let i = 0; ; i++) {
    const v = roundTo(min + i * step, p);
    if (v > max + 1e-12) break;
    values.push(v);
    if (values.length > 10_000) break;
  }
  return values;
}

function roundTo(v: number, p: SearchParameter): number {
  if (p.type === 'int') return Math.round(v);
  return Number(v.toPrecision(12));
}

/** Number of trials the study can have (grid: the size of the grid). */
export function trialBudgetOf(study: StudySpec): number {
  if (localAlgorithmOf(study) !== 'grid') return study.maxTrials;
  return Math.min(study.maxTrials, gridOf(study).length);
}

/** The values of trial `index` (0-based), given the finished trials' results. */
export function suggestTrial(
  study: StudySpec,
  index: number,
  results: readonly TrialResult[],
): TrialAssignment {
  const algorithm = localAlgorithmOf(study);
  if (algorithm === 'grid') {
    const grid = gridOf(study);
    return grid[index % Math.max(1, grid.length)] ?? {};
  }
  const random = seededRandom(mixSeed(study.seed ?? 0, index));
  const seen = new Set(results.map((r) => keyOf(r.parameters)));
  const scored = results.filter(
    (r): r is TrialResult & { objective: number } =>
      r.objective !== null && Number.isFinite(r.objective),
  );
  const startup = Math.max(2, Math.min(5, Math.ceil(study.maxTrials / 4)));
  let best: TrialAssignment = {};
  for (let attempt = 0; attempt < 8; attempt++) {
    best =
      algorithm === 'tpe' && scored.length >= startup
        ? suggestTpe(study, scored, random)
        : sampleUniform(study.parameters, random);
    if (!seen.has(keyOf(best))) break;
  }
  return best;
}

function keyOf(a: TrialAssignment): string {
  return JSON.stringify(Object.entries(a).sort(([x], [y]) => x.localeCompare(y)));
}

// ---- random ------------------------------------------------------------------------------------

function sampleUniform(params: readonly SearchParameter[], random: () => number): TrialAssignment {
  const out: Record<string, string | number | boolean> = {};
  for (const p of params) out[p.name] = sampleOne(p, random);
  return out;
}

function sampleOne(p: SearchParameter, random: () => number): string | number | boolean {
  if (p.values !== undefined) return p.values[Math.floor(random() * p.values.length)]!;
  const [lo, hi] = boundsOf(p);
  return fromInternal(p, lo + random() * (hi - lo));
}

/** Ranges are searched in an internal space: log for `log` scales, widened by half a unit for ints. */
function boundsOf(p: SearchParameter): [number, number] {
  const min = p.min!;
  const max = p.max!;
  if (p.scale === 'log') return [Math.log(min), Math.log(max)];
  if (p.type === 'int') return [min - 0.4999, max + 0.4999];
  return [min, max];
}

function toInternal(p: SearchParameter, v: number): number {
  return p.scale === 'log' ? Math.log(v) : v;
}

function fromInternal(p: SearchParameter, x: number): number {
  const min = p.min!;
  const max = p.max!;
  let v = p.scale === 'log' ? Math.exp(x) : x;
  if (p.step !== undefined) v = min + Math.round((v - min) / p.step) * p.step;
  if (p.type === 'int') v = Math.round(v);
  v = Math.min(max, Math.max(min, v));
  return p.type === 'int' ? v : Number(v.toPrecision(5));
}

// ---- TPE ---------------------------------------------------------------------------------------

const CANDIDATES = 24;
const GAMMA = 0.25;

function suggestTpe(
  study: StudySpec,
  scored: readonly (TrialResult & { objective: number })[],
  random: () => number,
): TrialAssignment {
  const sign = study.goal === 'maximize' ? -1 : 1;
  const sorted = [...scored].sort((a, b) => sign * a.objective - sign * b.objective);
  const nBelow = Math.max(1, Math.ceil(GAMMA * sorted.length));
  const below = sorted.slice(0, nBelow);
  const above = sorted.slice(nBelow);
  const out: Record<string, string | number | boolean> = {};
  for (const p of study.parameters) {
    const valuesOf = (rs: readonly TrialResult[]): unknown[] =>
      rs.map((r) => r.parameters[p.name]).filter((v) => v !== undefined);
    out[p.name] =
      p.values !== undefined
        ? suggestFromList(p.values, valuesOf(below), valuesOf(above), random)
        : suggestFromRange(
            p,
            valuesOf(below).filter((v): v is number => typeof v === 'number'),
            valuesOf(above).filter((v): v is number => typeof v === 'number'),
            random,
          );
  }
  return out;
}

function suggestFromList(
  choices: readonly (string | number | boolean)[],
  below: readonly unknown[],
  above: readonly unknown[],
  random: () => number,
): string | number | boolean {
  const weights = (obs: readonly unknown[]): number[] =>
    choices.map((c) => (obs.filter((o) => o === c).length + 1) / (obs.length + choices.length));
  const l = weights(below);
  const g = weights(above);
  let best = choices[0]!;
  let bestScore = -Infinity;
  for (let i = 0; i < CANDIDATES; i++) {
    let r = random();
    let k = 0;
    while (k < l.length - 1 && r >= l[k]!) {
      r -= l[k]!;
      k++;
    }
    const score = Math.log(l[k]!) - Math.log(g[k]!);
    if (score > bestScore) {
      bestScore = score;
      best = choices[k]!;
    }
  }
  return best;
}

interface Parzen {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
}

/** A Gaussian mixture over the observations plus a flat-ish prior over the whole range. */
function parzenOf(xs: readonly number[], lo: number, hi: number): Parzen {
  const span = hi - lo;
  const prior = (lo + hi) / 2;
  const mus = [...xs, prior];
  const order = [...mus].sort((a, b) => a - b);
  const minSigma = span / Math.min(100, 1 + mus.length);
  const sigmas = mus.map((mu, i) => {
    if (i === mus.length - 1) return span;
    const at = order.indexOf(mu);
    const left = at > 0 ? mu - order[at - 1]! : mu - lo;
    const right = at < order.length - 1 ? order[at + 1]! - mu : hi - mu;
    return Math.min(span, Math.max(minSigma, left, right));
  });
  const weights = mus.map(() => 1 / mus.length);
  return { mus, sigmas, weights };
}

function logDensity(p: Parzen, x: number, lo: number, hi: number): number {
  let total = 0;
  for (let i = 0; i < p.mus.length; i++) {
    const mu = p.mus[i]!;
    const s = p.sigmas[i]!;
    // Truncated to [lo, hi]: normalize by the mass inside.
    const mass = normalCdf((hi - mu) / s) - normalCdf((lo - mu) / s);
    const z = (x - mu) / s;
    total +=
      (p.weights[i]! * Math.exp(-0.5 * z * z)) /
      (s * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(Math.max(total, 1e-300));
}

function sampleParzen(p: Parzen, lo: number, hi: number, random: () => number): number {
  let r = random();
  let k = 0;
  while (k < p.weights.length - 1 && r >= p.weights[k]!) {
    r -= p.weights[k]!;
    k++;
  }
  for (let tries = 0; tries < 16; tries++) {
    const x = p.mus[k]! + p.sigmas[k]! * gaussian(random);
    if (x >= lo && x <= hi) return x;
  }
  return Math.min(hi, Math.max(lo, p.mus[k]!));
}

function suggestFromRange(
  p: SearchParameter,
  below: readonly number[],
  above: readonly number[],
  random: () => number,
): number {
  const [lo, hi] = boundsOf(p);
  if (hi <= lo) return fromInternal(p, lo);
  const l = parzenOf(
    below.map((v) => toInternal(p, v)),
    lo,
    hi,
  );
  const g = parzenOf(
    above.map((v) => toInternal(p, v)),
    lo,
    hi,
  );
  let bestX = sampleParzen(l, lo, hi, random);
  let bestScore = -Infinity;
  for (let i = 0; i < CANDIDATES; i++) {
    const x = sampleParzen(l, lo, hi, random);
    const score = logDensity(l, x, lo, hi) - logDensity(g, x, lo, hi);
    if (score > bestScore) {
      bestScore = score;
      bestX = x;
    }
  }
  return fromInternal(p, bestX);
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 through erf). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** The better of two objective values under the study's goal. */
export function isBetterObjective(study: StudySpec, a: number, b: number | null): boolean {
  if (b === null) return true;
  return study.goal === 'maximize' ? a > b : a < b;
}
