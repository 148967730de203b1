/**
 * Driving the VS Code workbench in Chromium (playwright-core): the palette, scrolling the
 * virtualized notebook, webview frames, notifications. Shared by the UI scenario tests.
 */
import type { Frame, Locator, Page } from 'playwright-core';

/** Runs `command` from the palette (F1), as a person types it. */
export async function palette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget:visible input');
  await input.fill(`>${command}`);
  await page
    .locator('.quick-input-widget:visible .monaco-list-row', { hasText: command })
    .first()
    .waitFor();
  await page.keyboard.press('Enter');
}

/**
 * Opens a workspace file with quick open (Ctrl+P). Right after the workbench opens, on a busy
 * machine, the file search may not answer yet: close and ask again, as a person would.
 */
export async function quickOpen(page: Page, name: string): Promise<void> {
  const row = page.locator('.quick-input-widget:visible .monaco-list-row', { hasText: name });
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget:visible input').fill(name);
    if (
      await row
        .first()
        .waitFor({ timeout: 20_000 })
        .then(() => true)
        .catch(() => false)
    )
      break;
    if (attempt === 4) throw new Error(`quick open does not find ${name}`);
    await page.keyboard.press('Escape');
  }
  await page.keyboard.press('Enter');
}

/** The notebook renders only the cells in view: scroll down until `locator` shows up. */
export async function scrollTo(page: Page, locator: Locator, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await page.mouse.move(700, 500);
  while (!(await locator.first().isVisible())) {
    if (Date.now() > deadline) throw new Error(`not found while scrolling: ${locator.toString()}`);
    await page.mouse.wheel(0, 300);
    await page.waitForTimeout(300);
  }
}

/**
 * Makes the notebook cell that shows `statusText` in its status bar the active cell: clicks its
 * editor until the workbench status bar says `Cell N of` (on a busy machine the virtualized list
 * may still be laying out and a click lands elsewhere).
 */
export async function selectCell(
  page: Page,
  statusText: string,
  cellNumber: number,
): Promise<Locator> {
  const cell = page.locator('.cell-inner-container', {
    has: page.locator('.cell-status-item', { hasText: statusText }),
  });
  const selected = page.locator('.statusbar-item', {
    hasText: new RegExp(`^Cell ${cellNumber} of`),
  });
  for (let attempt = 1; ; attempt++) {
    await scrollTo(page, cell);
    await cell.locator('.monaco-editor').first().click();
    if (
      await selected
        .first()
        .waitFor({ timeout: 10_000 })
        .then(() => true)
        .catch(() => false)
    )
      return cell;
    if (attempt === 4) throw new Error(`clicking the cell with "${statusText}" did not select it`);
  }
}

/**
 * The notification whose text matches, as a person finds it in the notifications centre (the
 * status bar's bell), which lists each one with its buttons. The workbench the tests drive runs
 * with the smoke-test driver (it is what loads the extension under development), and with it VS
 * Code shows no toasts: the centre is where its notifications are seen. Opens the centre unless it
 * is open, then waits for the row. Notifications with buttons are always shown expanded there.
 */
export async function notification(
  page: Page,
  text: string | RegExp,
  timeoutMs = 60_000,
): Promise<Locator> {
  const centre = page.locator('.notifications-center.visible');
  const row = centre.locator('.monaco-list-row', { hasText: text }).first();
  const deadline = Date.now() + timeoutMs;
  // Closed: wait for the bell to say it has news, then open it (a click while the workbench is
  // still busy can be lost: click again until the centre shows).
  while (!(await centre.isVisible())) {
    if (Date.now() > deadline) throw new Error(`no notification arrived for ${String(text)}`);
    const bell = page.locator('[id="status.notifications"]', {
      has: page.locator('.codicon-bell-dot'),
    });
    if (!(await bell.isVisible())) {
      await page.waitForTimeout(250);
      continue;
    }
    await bell.click();
    await centre.waitFor({ timeout: 3_000 }).catch(() => undefined);
  }
  await row.waitFor({ timeout: Math.max(1, deadline - Date.now()) });
  return row;
}

/** Clears every notification and closes the centre (its header's actions, as a person does). */
export async function clearNotifications(page: Page): Promise<void> {
  const centre = page.locator('.notifications-center.visible');
  if (!(await centre.isVisible())) return;
  await centre.locator('.action-label[aria-label="Clear All Notifications"]').click();
  if (await centre.isVisible())
    await centre.locator('.action-label[aria-label^="Hide Notifications"]').click();
  await centre.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Webviews are nested iframes (the notebook's outputs have one too): the first frame with `selector`. */
export async function frameWith(page: Page, selector: string, count = 1): Promise<Frame> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const frame of page.frames()) {
      const n = await frame
        .locator(selector)
        .count()
        .catch(() => 0);
      if (n >= count) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame shows ${count} × ${selector}`);
    await page.waitForTimeout(250);
  }
}
