// One page-driver interface for every browser engine the web tests run in, so a
// test is written once and run in Chromium, Firefox and WebKit alike.
export type EngineName = 'chromium' | 'firefox' | 'webkit';

export const ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

export interface EngineOpenOptions {
  viewport?: { width: number; height: number };
  /** JavaScript run in the page before any of the page's own scripts. */
  initScript?: string;
}

export interface EnginePage {
  readonly engine: EngineName;
  /** Load url in this page and wait for its load event. */
  goto(url: string): Promise<void>;
  /**
   * The value of a JavaScript expression in the page (awaited if it is a Promise).
   * A string, not a function: the three drivers serialize functions differently.
   */
  evaluate<T>(expression: string): Promise<T>;
  /** Poll `expression` until it is truthy; returns that value. */
  waitForFunction<T>(expression: string, opts?: { what?: string; timeoutMs?: number; intervalMs?: number }): Promise<T>;
  screenshot(file: string): Promise<void>;
  /** Uncaught exceptions and unhandled rejections in the page so far. */
  errors(): Promise<string[]>;
  /** console.error / console.warn lines so far (for failure messages only). */
  consoleLines(): Promise<string[]>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  /** e.g. "firefox/153.8.0esr" */
  readonly version: string;
  /** A new page (its own window where the engine allows, so every page stays visible) at url. */
  open(url: string, opts?: EngineOpenOptions): Promise<EnginePage>;
  /** Close every page and the browser, stop every helper process, remove temporary files. */
  close(): Promise<void>;
}

/** Shared by the drivers: poll an evaluation until it returns something truthy. */
export async function pollPage<T>(
  evaluate: (expression: string) => Promise<unknown>,
  expression: string,
  opts: { what?: string; timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await evaluate(expression);
    if (last) return last as T;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? expression} (last value: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
