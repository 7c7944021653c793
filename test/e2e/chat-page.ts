/**
 * Drives the demo's chat page the way a person does: fill the form, press the buttons, read what
 * the page shows. The page keeps its state in data- attributes (`#status[data-state]`,
 * `[data-code]`, `[data-transport]`, `#notice[data-code]`), which is what these helpers wait on.
 */
import type { BrowserContext, Page } from "playwright-core";

/** The token the page asks the demo issuer for: its lifetime in seconds, or none at all. */
export type TokenChoice = "600" | "20" | "-120" | "none";

export interface ChatUser {
  readonly user: string;
  readonly scopes: string;
  readonly token?: TokenChoice;
}

/**
 * Opens the chat page from `origin` in a new tab and presses Connect as `who`. Returns once the
 * page shows an outcome: connected (over WebSocket, after the upgrade) or refused.
 *
 * @example
 * const page = await openChat(browser.context, demo.origin, { user: "alice", scopes: "chat:read" });
 */
export async function openChat(context: BrowserContext, origin: string, who: ChatUser): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.fill("#user", who.user);
  await page.fill("#scopes", who.scopes);
  await page.selectOption("#token-ttl", who.token ?? "600");
  await page.click("#connect");
  await page.waitForSelector(
    '#status[data-state="connected"][data-transport="websocket"], #status[data-state="refused"]',
  );
  return page;
}

/** The page's status: its state, the guard's code when refused, and the transport when connected. */
export async function readStatus(page: Page): Promise<{ state: string; code: string; transport: string }> {
  const status = page.locator("#status");
  return {
    state: (await status.getAttribute("data-state")) ?? "",
    code: (await status.getAttribute("data-code")) ?? "",
    transport: (await status.getAttribute("data-transport")) ?? "",
  };
}

/** Types `text` into the composer and presses Send. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#composer button");
}

/** Waits for the ack of a refused event to show its code beside the composer. */
export async function waitForRefusal(page: Page, code: string): Promise<void> {
  await page.waitForSelector(`#notice[data-code="${code}"]`);
}

/** Waits until a broadcast message with exactly this text is in the page's message list. */
export async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.locator("#messages li.message", { hasText: text }).first().waitFor();
}

/** The texts of the messages the page received (the author's name included). */
export async function receivedMessages(page: Page): Promise<string[]> {
  return page.locator("#messages li.message").allTextContents();
}
