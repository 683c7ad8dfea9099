/**
 * The HTTP endpoints: /metrics, /healthz, /readyz, /lord/:legion, and the status page / with its
 * event stream /events, on node:http (a handful of GET routes need no framework). Every answer but
 * /metrics, / and /events is JSON; an unknown path is a 404 and a handler's failure a 500,
 * logged, never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpConfig } from '../config/types.js';
import type { Logger } from '../daemon/logger.js';
import { LegiondError } from '../errors.js';
import { bearerMatches } from './token.js';

export interface Routes {
  metrics(): Promise<{ contentType: string; body: string }>;
  healthz(): { ok: boolean; body: unknown };
  readyz(): { ok: boolean; body: unknown };
  /** null: no such legion */
  lord(legion: string): unknown | null;
  /** the status page (HTML) */
  page?(res: ServerResponse, head: boolean): void;
  /** its Server-Sent Events stream; the handler keeps `res` open */
  events?(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void;
}

export interface HttpServerOptions {
  config: HttpConfig;
  /** null: no token asked (a loopback listen without token_file) */
  token: string | null;
  routes: Routes;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export async function startHttpServer(o: HttpServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch((e) => {
      o.logger.error({ err: e, path: req.url }, 'http: request failed');
      if (!res.headersSent) json(res, 500, { error: { code: 'ERR_INTERNAL', message: 'internal error' } });
      else res.destroy();
    });
  });
  // a slow or idle client must not hold sockets open for long
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  const { host, port } = o.config.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `http.listen ${host}:${port}`;
      reject(
        e.code === 'EADDRINUSE'
          ? new LegiondError('ERR_HTTP_IN_USE', `${where}: address already in use`)
          : new LegiondError('ERR_HTTP_LISTEN', `${where}: cannot listen: ${e.code ?? e.message}`),
      );
    });
    server.listen(port, host, () => resolve());
  });
  server.on('error', (e) => o.logger.error({ err: e }, 'http: server error'));
  o.logger.info({ http: `${host}:${port}`, token: o.token !== null }, 'http endpoints listening');
  return server;
}

async function handle(o: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (o.token !== null && !bearerMatches(req.headers.authorization, o.token)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="legiond"');
    return json(res, 401, { error: { code: 'ERR_PERMISSION', message: 'a bearer token is required' } });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return json(res, 405, {
      error: { code: 'ERR_BAD_REQUEST', message: `method ${req.method} not allowed` },
    });
  }
  const path = pathOf(req.url);
  if (path === '/' && o.routes.page) return o.routes.page(res, req.method === 'HEAD');
  if (path === '/events' && o.routes.events) {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end();
    }
    return o.routes.events(req, res, new URL(req.url ?? '/', 'http://localhost').searchParams);
  }
  if (path === '/metrics') {
    const m = await o.routes.metrics();
    res.writeHead(200, { 'Content-Type': m.contentType, 'Cache-Control': 'no-store' });
    return void res.end(req.method === 'HEAD' ? undefined : m.body);
  }
  if (path === '/healthz' || path === '/readyz') {
    const r = path === '/healthz' ? o.routes.healthz() : o.routes.readyz();
    return json(res, r.ok ? 200 : 503, r.body);
  }
  const lord = path === null ? null : /^\/lord\/([^/]+)$/.exec(path);
  if (lord?.[1] !== undefined) {
    const name = safeDecode(lord[1]);
    const body = name === null ? null : o.routes.lord(name);
    if (body !== null) return json(res, 200, body);
    return json(res, 404, {
      error: { code: 'ERR_UNKNOWN_LEGION', message: `no legion ${JSON.stringify(name ?? lord[1])}` },
    });
  }
  json(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no such path: ${path ?? req.url}` } });
}

function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}
