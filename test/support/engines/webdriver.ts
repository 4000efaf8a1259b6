// The few WebDriver classic (W3C) commands the web tests need, as JSON over
// fetch. A client library would bring a large dependency tree for eight
// endpoints, and WebKitWebDriver 2.50 offers nothing beyond classic anyway.
export class WebDriverError extends Error {
  constructor(readonly code: string, message: string) {
    super(`WebDriver ${code}: ${message}`);
    this.name = 'WebDriverError';
  }
}

/** The driver took longer than its deadline to answer (or the connection failed). */
export const NO_ANSWER = 'no answer';
/** W3C error code; also what a driver that never came up is reported as. */
export const SESSION_NOT_CREATED = 'session not created';

/**
 * The browser's driver stopped answering or could not start a session: the
 * harness failed, not the page under test. Anything the page did wrong (a
 * script error, a script timeout, a failed assertion, its own process not
 * answering while the browser does) is not one of these.
 */
export function isDriverFailure(err: unknown): boolean {
  return err instanceof WebDriverError && [NO_ANSWER, SESSION_NOT_CREATED, PAGE_PROCESS_STALLED].includes(err.code);
}

/**
 * The browser still answers but the page's own process does not, its main
 * thread running all the while (a script that never yields): the page under
 * test failed, never retried.
 */
export const PAGE_UNRESPONSIVE = 'page unresponsive';
/**
 * The browser still answers but the page's process does not, its main thread
 * asleep: blocked inside the engine, which no page script can do. Counted as a
 * driver failure. Seen in WebKitGTK 2.50: a seek (gst_element_send_event on the
 * main thread) whose events wait on a blocked pad while the media pipeline is
 * still building its sinks, a deadlock in the engine's MSE pipeline.
 */
export const PAGE_PROCESS_STALLED = 'page process stalled';

/** Bounds for every request, so a driver that goes silent fails one call instead of hanging a test. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const NEW_SESSION_TIMEOUT_MS = 60_000;

export class WebDriverClient {
  /** `describe` adds what is known about the driver's processes to a "no answer" error. */
  constructor(readonly base: string, private readonly describe: () => string = () => '') {}

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const said = this.describe();
      throw new WebDriverError(NO_ANSWER, `${method} ${path} (${timeoutMs} ms): ${(err as Error).message}` +
        (said ? `; ${said}` : ''));
    }
    let json: { value?: unknown };
    try {
      json = JSON.parse(text) as { value?: unknown };
    } catch {
      throw new WebDriverError('invalid response', `${method} ${path} -> ${res.status} ${text.slice(0, 200)}`);
    }
    const value = json.value as { error?: string; message?: string } | undefined;
    if (!res.ok || (value && typeof value === 'object' && typeof value.error === 'string')) {
      throw new WebDriverError(value?.error ?? String(res.status), `${method} ${path}: ${value?.message ?? text.slice(0, 200)}`);
    }
    return json.value as T;
  }

  /** True once the driver answers /status with ready. */
  async ready(): Promise<boolean> {
    try {
      return (await this.request<{ ready?: boolean }>('GET', '/status', undefined, 2_000)).ready === true;
    } catch {
      return false;
    }
  }

  async newSession(capabilities: Record<string, unknown>): Promise<WebDriverSession> {
    const v = await this.request<{ sessionId: string; capabilities: Record<string, unknown> }>('POST', '/session', {
      capabilities: { alwaysMatch: capabilities },
    }, NEW_SESSION_TIMEOUT_MS);
    return new WebDriverSession(this, v.sessionId, v.capabilities);
  }
}

/**
 * One session with one window. Its commands run one after another: WebDriver
 * classic handles a session's commands in order, and a second request sent
 * while one is pending would only start its deadline early.
 */
export class WebDriverSession {
  private queue: Promise<unknown> = Promise.resolve();
  private pageLoadMs = 300_000;
  /**
   * Set by a driver that can see the page's process: true if its main thread
   * is using CPU (checked only after a page command got no answer).
   */
  pageMainThreadRuns: () => Promise<boolean> = async () => true;
  /**
   * Set by a driver that can see the page's process: records where a stalled
   * page's processes were waiting, and says in a few words where and where the
   * full record is.
   */
  describeStall: () => Promise<string> = async () => '';

  constructor(private readonly client: WebDriverClient, readonly id: string, readonly capabilities: Record<string, unknown>) {}

  private cmd<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const run = () => this.client.request<T>(method, `/session/${this.id}${path}`, body, timeoutMs);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * A command the page's process must answer. With no answer, ask the browser
   * for the window handle, which it answers without the page: if it does, the
   * page's process is what stopped answering, and whether its main thread
   * runs tells a script that never yields from an engine that is stuck.
   */
  private async pageCmd<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    try {
      return await this.cmd<T>(method, path, body, timeoutMs);
    } catch (err) {
      if (!(err instanceof WebDriverError) || err.code !== NO_ANSWER) throw err;
      const browserAnswers = await this.client.request('GET', `/session/${this.id}/window`, undefined, 5_000)
        .then(() => true, () => false);
      if (!browserAnswers) throw err;
      const message = err.message.replace(/^WebDriver no answer: /, '');
      if (await this.pageMainThreadRuns()) throw new WebDriverError(PAGE_UNRESPONSIVE, message);
      const where = await this.describeStall();
      throw new WebDriverError(PAGE_PROCESS_STALLED, where ? `${message}; ${where}` : message);
    }
  }

  /** Script and page-load limits are enforced by the driver, below our own request deadline. */
  async setTimeouts(t: { script: number; pageLoad: number }): Promise<void> {
    await this.cmd('POST', '/timeouts', t);
    this.pageLoadMs = t.pageLoad;
  }
  setWindowRect(rect: { width: number; height: number }): Promise<void> {
    return this.cmd('POST', '/window/rect', rect);
  }
  navigate(url: string): Promise<void> {
    return this.pageCmd('POST', '/url', { url }, this.pageLoadMs + REQUEST_TIMEOUT_MS);
  }
  /** Runs a function body; a returned Promise is awaited by the driver. */
  execute<T>(body: string, args: unknown[] = []): Promise<T> {
    return this.pageCmd('POST', '/execute/sync', { script: body, args });
  }
  /** A PNG of the window's viewport. */
  async screenshot(): Promise<Buffer> {
    return Buffer.from(await this.pageCmd<string>('GET', '/screenshot'), 'base64');
  }
  /** Ends the session (the driver closes the browser); does not wait behind queued commands. */
  async delete(timeoutMs: number): Promise<void> {
    await this.client.request('DELETE', `/session/${this.id}`, undefined, timeoutMs);
  }
}
