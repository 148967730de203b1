/**
 * The grammar of the ids a client names things by (runs, studies, endpoints, schedules, steps):
 * local ids (`20261121-185628-digits-14d7`), KFP's UUIDs, Kubernetes names. Checked before any
 * path or request is built from one, so that `..`, a slash or a control character never is.
 */
export const RESOURCE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

export function isResourceId(id: string): boolean {
  return RESOURCE_ID_PATTERN.test(id) && !id.includes('..');
}
