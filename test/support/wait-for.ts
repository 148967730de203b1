/** Polling for a condition with a deadline: the one `waitFor` of the tests. */

/**
 * Resolves with the milliseconds it took once `check` returns true (it may be async); rejects
 * naming `what` when `timeoutMs` pass first. Checks every `intervalMs`.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return Date.now() - started;
}
