/**
 * Chart geometry for tuning results, as plain data (no DOM): the objective of each finished trial
 * against the trial number, or against one parameter's values (numeric axis, log scale when the
 * values span decades, or one slot per category). `render-tuning-results.ts` draws it as SVG.
 */
import type { StudyResults, TrialRow } from '../webview/webview-protocol.js';

export interface ChartPoint {
  readonly trialId: string;
  /** Position inside the plot area, 0..1 from left and from bottom. */
  readonly x: number;
  readonly y: number;
  readonly best: boolean;
  readonly label: string;
}

export interface ChartTick {
  readonly at: number;
  readonly label: string;
}

export interface ChartModel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ChartPoint[];
  readonly xTicks: readonly ChartTick[];
  readonly yTicks: readonly ChartTick[];
  /** Line through the best objective so far, by trial (only against the trial number). */
  readonly bestSoFar?: readonly { x: number; y: number }[];
}

function short(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(1)
    : String(Number(v.toPrecision(3)));
}

/** Maps values to 0..1 (padded when all equal). */
function scale(values: readonly number[], log: boolean): (v: number) => number {
  const t = (v: number): number => (log ? Math.log10(v) : v);
  const lo = Math.min(...values.map(t));
  const hi = Math.max(...values.map(t));
  const span = hi - lo;
  return span === 0 ? () => 0.5 : (v) => 0.05 + (0.9 * (t(v) - lo)) / span;
}

function ticks(values: readonly number[], at: (v: number) => number, log: boolean): ChartTick[] {
  if (values.length === 0) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (lo === hi) return [{ at: at(lo), label: short(lo) }];
  const picks = log
    ? Array.from({ length: 3 }, (_, i) => lo * (hi / lo) ** (i / 2))
    : Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  return picks.map((v) => ({ at: at(v), label: short(v) }));
}

const finished = (t: TrialRow): t is TrialRow & { objective: number } =>
  t.objective !== null && Number.isFinite(t.objective);

/** Objective against trial number, with the best-so-far line. */
export function chartObjectiveByTrial(study: StudyResults): ChartModel {
  const trials = study.trials.filter(finished).sort((a, b) => a.index - b.index);
  const objectives = trials.map((t) => t.objective);
  const y = scale(objectives, false);
  const maxIndex = Math.max(1, ...trials.map((t) => t.index + 1));
  const x = (index: number): number =>
    maxIndex === 1 ? 0.5 : 0.05 + (0.9 * index) / (maxIndex - 1);
  let best: number | undefined;
  const bestSoFar = trials.map((t) => {
    if (best === undefined || (study.goal === 'maximize' ? t.objective > best : t.objective < best))
      best = t.objective;
    return { x: x(t.index), y: y(best) };
  });
  return {
    title: `${study.objective} by trial`,
    xLabel: 'trial',
    yLabel: study.objective,
    points: trials.map((t) => ({
      trialId: t.id,
      x: x(t.index),
      y: y(t.objective),
      best: t.id === study.bestTrialId,
      label: `trial ${t.index + 1}: ${short(t.objective)}`,
    })),
    xTicks: Array.from(new Set(trials.map((t) => t.index))).map((i) => ({
      at: x(i),
      label: String(i + 1),
    })),
    yTicks: ticks(objectives, y, false),
    bestSoFar,
  };
}

/** Objective against one searched parameter's values. */
export function chartObjectiveByParameter(study: StudyResults, parameter: string): ChartModel {
  const trials = study.trials.filter(finished).filter((t) => t.parameters[parameter] !== undefined);
  const objectives = trials.map((t) => t.objective);
  const y = scale(objectives, false);
  const raw = trials.map((t) => t.parameters[parameter]);
  const numeric = raw.every((v) => typeof v === 'number');
  let x: (v: string | number | boolean) => number;
  let xTicks: ChartTick[];
  if (numeric) {
    const nums = raw;
    const log = nums.every((v) => v > 0) && Math.max(...nums) / Math.min(...nums) >= 100;
    const sx = scale(nums, log);
    x = (v) => sx(v as number);
    xTicks = ticks(nums, sx, log);
  } else {
    const categories = Array.from(new Set(raw.map(String))).sort();
    const slot = (c: string): number => (categories.indexOf(c) + 0.5) / categories.length;
    x = (v) => slot(String(v));
    xTicks = categories.map((c) => ({ at: slot(c), label: c }));
  }
  return {
    title: `${study.objective} by ${parameter}`,
    xLabel: parameter,
    yLabel: study.objective,
    points: trials.map((t) => ({
      trialId: t.id,
      x: x(t.parameters[parameter]!),
      y: y(t.objective),
      best: t.id === study.bestTrialId,
      label: `${parameter}=${String(t.parameters[parameter])}: ${short(t.objective)}`,
    })),
    xTicks,
    yTicks: ticks(objectives, y, false),
  };
}
