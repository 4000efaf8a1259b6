// The few WebDriver classic (W3C) commands the web tests need, as JSON over
// fetch. A client library would bring a large dependency tree for eight
// endpoints, and WebKitWebDriver 2.50 offers nothing beyond classic anyway.
export class WebDriverError extends Error {
  constructor(readonly code: string, message: string) {
    super(`WebDriver ${code}: ${message}`);
    this.name = 'WebDriverError';
  }
}

export interface WindowHandle {
  handle: string;
}

export class WebDriverClient {
  constructor(readonly base: string, private readonly timeoutMs = 90_000) {}

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new WebDriverError('no answer', `${method} ${path}: ${(err as Error).message}`);
    }
    const text = await res.text();
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
      return (await this.request<{ ready?: boolean }>('GET', '/status')).ready === true;
    } catch {
      return false;
    }
  }

  async newSession(capabilities: Record<string, unknown>): Promise<WebDriverSession> {
    const v = await this.request<{ sessionId: string; capabilities: Record<string, unknown> }>('POST', '/session', {
      capabilities: { alwaysMatch: capabilities },
    });
    return new WebDriverSession(this, v.sessionId, v.capabilities);
  }
}

/** One session; commands go to its current window, so callers serialize with exclusive(). */
export class WebDriverSession {
  private queue: Promise<unknown> = Promise.resolve();
  private current: string | null = null;

  constructor(private readonly client: WebDriverClient, readonly id: string, readonly capabilities: Record<string, unknown>) {}

  private cmd<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.client.request<T>(method, `/session/${this.id}${path}`, body);
  }

  /** Run fn with `handle` as the current window, after every earlier exclusive() has finished. */
  exclusive<T>(handle: string | null, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (handle !== null && this.current !== handle) {
        await this.cmd('POST', '/window', { handle });
        this.current = handle;
      }
      return fn();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  setTimeouts(t: { script?: number; pageLoad?: number }): Promise<void> {
    return this.cmd('POST', '/timeouts', t);
  }
  currentWindow(): Promise<string> {
    return this.cmd('GET', '/window');
  }
  /** Open a new top-level window; does not switch to it. */
  async newWindow(): Promise<string> {
    return (await this.cmd<WindowHandle>('POST', '/window/new', { type: 'window' })).handle;
  }
  async closeWindow(): Promise<void> {
    await this.cmd('DELETE', '/window');
    this.current = null;
  }
  setWindowRect(rect: { width: number; height: number }): Promise<void> {
    return this.cmd('POST', '/window/rect', rect);
  }
  navigate(url: string): Promise<void> {
    return this.cmd('POST', '/url', { url });
  }
  /** Runs a function body; a returned Promise is awaited by the driver. */
  execute<T>(body: string, args: unknown[] = []): Promise<T> {
    return this.cmd('POST', '/execute/sync', { script: body, args });
  }
  /** A PNG of the current window's viewport. */
  async screenshot(): Promise<Buffer> {
    return Buffer.from(await this.cmd<string>('GET', '/screenshot'), 'base64');
  }
  async delete(): Promise<void> {
    await this.client.request('DELETE', `/session/${this.id}`);
  }
}
