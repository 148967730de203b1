/**
 * Kubernetes resource quantities as plain numbers, for the KFP fields that predate quantities:
 * backends before 2.4 read `cpuLimit` in cores and `memoryLimit` in gigabytes (10^9 bytes).
 */

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity (`500m` → 0.5, `4Gi` → 4294967296), or null when it is not one. */
export function quantityValue(quantity: string): number | null {
  const match = /^\+?((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([KMGTPE]i|[mkMGTPE])?$/.exec(
    quantity,
  );
  if (match === null) return null;
  const value = Number(match[1]) * (SUFFIXES[match[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(value) ? value : null;
}

/** Rounds away binary-fraction noise (0.1 + 0.2) without losing a quantity's precision. */
function clean(value: number): number {
  return Number(value.toPrecision(12));
}

/** CPU cores of a quantity, as `cpuLimit` wants them. */
export function cpuCores(quantity: string): number | null {
  const value = quantityValue(quantity);
  return value === null ? null : clean(value);
}

/** Gigabytes (10^9 bytes) of a memory quantity, as `memoryLimit` wants them. */
export function memoryGigabytes(quantity: string): number | null {
  const value = quantityValue(quantity);
  return value === null ? null : clean(value / 1e9);
}
