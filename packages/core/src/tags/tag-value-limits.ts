/**
 * What Kubernetes and Kubeflow Pipelines accept in a tag's value: a step name KFP can turn into a
 * Kubernetes name, quantities that fit Kubernetes' 64-bit resource values, retry counts and
 * timeouts that fit KFP's and Argo's integer fields, and image references a registry can resolve.
 */
import { quantityValue } from '../emit/kfp/kubernetes-quantity.js';

/** Longest tag read; a longer one is refused whole (its text is not echoed in messages either). */
export const MAX_TAG_LENGTH = 4096;

/**
 * Longest step name: KFP names the step's task and pods after it, and Kubernetes names and label
 * values hold at most 63 characters (a local run also names a folder after it).
 */
export const MAX_STEP_NAME_LENGTH = 63;

/** Counts (GPUs, retries) and timeout seconds are 32-bit integers in KFP's and Argo's specs. */
export const MAX_COUNT = 2 ** 31 - 1;

/** Kubernetes holds a quantity as a signed 64-bit count of its base unit (bytes, cores). */
const MAX_QUANTITY = 2 ** 63 - 1;

/** A whole number from `min` to `MAX_COUNT`, or undefined. */
export function readCount(text: string, min: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= MAX_COUNT ? n : undefined;
}

/** Why a quantity (already matching Kubernetes' syntax) is out of range, or undefined. */
export function quantityRangeProblem(quantity: string): string | undefined {
  const value = quantityValue(quantity);
  if (value === null || value > MAX_QUANTITY)
    return `is larger than Kubernetes holds (2^63-1 of its unit)`;
  return undefined;
}

/** `90s`, `15m`, `1h30m`, `2d` in seconds; callers check the syntax first. */
export function durationToSeconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)([dhms])/g)) {
    total += Number(n) * { d: 86400, h: 3600, m: 60, s: 1 }[unit as 'd' | 'h' | 'm' | 's'];
  }
  return total;
}

// The image reference grammar of the OCI distribution spec (github.com/distribution/reference).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** Registries refuse repository names longer than this. */
const MAX_IMAGE_NAME_LENGTH = 255;

export function isImageReference(ref: string): boolean {
  const match = IMAGE_REFERENCE.exec(ref);
  return match !== null && (match[1]?.length ?? 0) <= MAX_IMAGE_NAME_LENGTH;
}
