/**
 * A timer for deadlines of any length. Node's `setTimeout` holds at most 2^31-1 ms (24.8 days);
 * a longer delay fires at once. This one waits in pieces no longer than that.
 */

/** The longest delay `setTimeout` keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DeadlineTimer {
  /** Stops the timer; `onExpired` is not called after this. */
  clear(): void;
}

export function startDeadlineTimer(delayMs: number, onExpired: () => void): DeadlineTimer {
  const expiresAt = Date.now() + delayMs;
  let timer: NodeJS.Timeout | undefined;
  const wait = (): void => {
    const left = expiresAt - Date.now();
    if (left <= 0) {
      timer = undefined;
      onExpired();
      return;
    }
    timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
  };
  wait();
  return {
    clear: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
