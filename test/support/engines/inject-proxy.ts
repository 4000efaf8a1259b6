// A loopback reverse proxy in front of one origin that adds a <script> at the top
// of <head> in every HTML document: "run this before the page's own scripts" for
// a driver with no such command (WebKitWebDriver 2.50 speaks only WebDriver
// classic, no BiDi). Everything else — streaming HTTP-FLV, WebSocket upgrades —
// passes through byte for byte.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface InjectingProxy {
  /** http://127.0.0.1:PORT — use it in place of the target's origin. */
  readonly origin: string;
  close(): Promise<void>;
}

const HEAD_OPEN = /<head(\s[^>]*)?>/i;

/** Put `<script>` + script right after `<head>` (or first, if the document has no head tag). */
export function injectIntoHead(html: string, script: string): string {
  // A "</script" inside the script would end the element early.
  const tag = `<script>${script.replace(/<\/script/gi, '<\\/script')}</script>`;
  const m = HEAD_OPEN.exec(html);
  if (!m) return tag + html;
  const at = m.index + m[0].length;
  return html.slice(0, at) + tag + html.slice(at);
}

export async function startInjectingProxy(target: string, script: string): Promise<InjectingProxy> {
  const to = new URL(target);
  const host = to.hostname;
  const port = Number(to.port || 80);
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: to.host };
    // Plain bytes, so the HTML can be edited.
    delete headers['accept-encoding'];
    const upstream = http.request({ host, port, method: req.method, path: req.url, headers }, (up) => {
      const type = String(up.headers['content-type'] ?? '');
      if (!type.startsWith('text/html')) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.from(injectIntoHead(Buffer.concat(chunks).toString('utf8'), script), 'utf8');
        const out: http.OutgoingHttpHeaders = { ...up.headers, 'content-length': String(body.length) };
        delete out['transfer-encoding'];
        delete out['etag'];
        // An inline script the gateway's own policy would refuse is the harness's, not the page's.
        delete out['content-security-policy'];
        res.writeHead(up.statusCode ?? 502, out);
        res.end(body);
      });
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // A viewer that leaves must leave the gateway too (HTTP-FLV never ends by itself).
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });

  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const up = net.connect({ host, port });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      lines.push(`${name}: ${name.toLowerCase() === 'host' ? to.host : req.rawHeaders[i + 1]}`);
    }
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    up.pipe(client);
    client.pipe(up);
    const end = () => {
      up.destroy();
      client.destroy();
    };
    up.on('error', end).on('close', end);
    client.on('error', end).on('close', end);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port: own } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${own}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
