// A real HTTP server on 127.0.0.1 (port 0) speaking the parts of the Gotify, ntfy, Uptime Kuma and
// healthchecks APIs that home-lab uses, recording every request. Gotify checks its token (401
// otherwise), health endpoints fail for the first N probes, message endpoints can fail with 500.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface PushServerOptions {
  gotifyToken?: string;
  /** When set, ntfy requires `Authorization: Bearer <token>` (403 otherwise). */
  ntfyToken?: string;
  /** Health probes answered 503 before the first healthy answer. */
  unhealthyProbes?: number;
  /** Message posts (Gotify /message, ntfy topic) answered 500 before the first success. */
  failingMessages?: number;
  /** Uptime Kuma push token accepted; others get 404 {"ok":false}. */
  kumaToken?: string;
}

export interface PushServer {
  url: string;
  requests: Recorded[];
  /** Requests to one path (without query). */
  to(pathname: string): Recorded[];
  close(): Promise<void>;
}

export async function startPushServer(t: TestContext, options: PushServerOptions = {}): Promise<PushServer> {
  const requests: Recorded[] = [];
  let probes = 0;
  let messages = 0;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const { pathname } = new URL(req.url ?? '/', 'http://x');
      const healthProbe = () => probes++ < (options.unhealthyProbes ?? 0);
      const failMessage = () => messages++ < (options.failingMessages ?? 0);

      if (req.method === 'GET' && pathname === '/health') {
        if (healthProbe()) return json(res, 503, { health: 'red', database: 'red' });
        return json(res, 200, { health: 'green', database: 'green' });
      }
      if (req.method === 'POST' && pathname === '/message') {
        if (req.headers['x-gotify-key'] !== options.gotifyToken) {
          return json(res, 401, { error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' });
        }
        if (failMessage()) return json(res, 500, { error: 'Internal Server Error', errorCode: 500 });
        return json(res, 200, { id: messages, ...JSON.parse(body) });
      }
      if (req.method === 'GET' && pathname === '/v1/health') {
        if (healthProbe()) return json(res, 503, { healthy: false });
        return json(res, 200, { healthy: true });
      }
      if (pathname.startsWith('/api/push/')) {
        if (pathname !== `/api/push/${options.kumaToken}`) return json(res, 404, { ok: false, msg: 'Monitor not found or not active.' });
        return json(res, 200, { ok: true });
      }
      if (pathname.startsWith('/hc/')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('OK');
      }
      if (req.method === 'POST' && /^\/[\w-]+$/.test(pathname)) {
        if (options.ntfyToken !== undefined && req.headers.authorization !== `Bearer ${options.ntfyToken}`) {
          return json(res, 403, { code: 40301, http: 403, error: 'forbidden' });
        }
        if (failMessage()) return json(res, 500, { code: 50001, http: 500, error: 'internal server error' });
        return json(res, 200, { id: 'abc', event: 'message', topic: pathname.slice(1), message: body });
      }
      json(res, 404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    to: (p) => requests.filter((r) => new URL(r.url, 'http://x').pathname === p),
    close,
  };
}

/** A loopback URL where nothing listens (a port just closed). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
