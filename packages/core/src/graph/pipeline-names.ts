/** Names Kubeflow accepts, made from the notebook's. */

/** KFP pipeline names: lowercase letters, digits and '-'. */
export function toPipelineName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/\.ipynb$/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128);
  return s === '' ? 'pipeline' : /^[0-9]/.test(s) ? `p-${s}` : s;
}

/** `sum_result` -> `sum-result` (Kale's convention; valid KFP and Katib metric names). */
export function toMetricName(variable: string): string {
  return (
    variable
      .toLowerCase()
      .replace(/_/g, '-')
      .replace(/^-+|-+$/g, '') || 'metric'
  );
}
