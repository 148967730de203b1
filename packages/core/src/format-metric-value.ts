/**
 * A metric's value as a person reads it (notifications, hovers, run lists, the terminal): at most
 * 4 decimal places (`0.9622`, not `0.9622222222222222`), 4 significant digits when very small or
 * very large, integers and text as they are. Stored values keep full precision.
 */
export function formatMetricValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toPrecision(4) : String(+value.toFixed(4));
}
