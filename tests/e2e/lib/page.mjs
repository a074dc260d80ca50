// A tiny "app" on http://localhost:PORT:
//   GET  /                  index.html: loads @clerk/clerk-js's script-tag bundle (clerk.browser.js) from node_modules
//   GET  /clerk-js/*        node_modules/@clerk/clerk-js/dist/* (the bundle lazy-loads its chunks from here)
//   ANY  /__clerk/*         reverse proxy to the latchkey FAPI, done by @clerk/backend's own proxy helper
//                           (clerkFrontendApiProxy): strips /__clerk, keeps the query, forwards method/body/cookies,
//                           adds Clerk-Proxy-Url: http://localhost:PORT/__clerk, Clerk-Secret-Key, X-Forwarded-*,
//                           passes back status and headers including every Set-Cookie.
//
// The page reads its settings from the query string, so one app serves both proxy modes:
//   /?proxy=/__clerk                  same-origin proxy (default)
//   /?proxy=http://127.0.0.1:<fapi>   direct, cross-origin (CORS with credentials)
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { clerkFrontendApiProxy } from '@clerk/backend/proxy';

const here = dirname(fileURLToPath(import.meta.url));
export const CLERK_JS_DIST = join(here, '..', 'node_modules', '@clerk', 'clerk-js', 'dist');
export const PROXY_PATH = '/__clerk';

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.html': 'text/html; charset=utf-8', '.map': 'application/json' };

export function indexHtml({ publishableKey }) {
  // Settings go on window before the bundle runs: clerk.browser.js constructs `window.Clerk` from
  // data-clerk-publishable-key / data-clerk-proxy-url on its <script> or window.__clerk_publishable_key /
  // window.__clerk_proxy_url, and never calls load() itself.
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>latchkey e2e app</title>
<script>
  (function () {
    var q = new URLSearchParams(location.search);
    window.__clerk_publishable_key = ${JSON.stringify(publishableKey)};
    window.__clerk_proxy_url = q.get('proxy') || ${JSON.stringify(PROXY_PATH)};
    window.__e2e = { navigations: [], events: [] };
  })();
</script>
<script src="/clerk-js/clerk.browser.js" crossorigin="anonymous"></script>
</head><body><h1>latchkey e2e</h1><div id="app"></div></body></html>`;
}

/**
 * Starts the app server on 127.0.0.1:0 (its origin is http://localhost:PORT). The origin is known before latchkey
 * starts (latchkey's allowed_origins needs it); call `app.attach(server)` with what startLatchkey() returned before
 * opening pages.
 */
export async function startApp({ host = 'localhost' } = {}) {
  const requests = []; // every request that reached the app: { method, path, status }
  let server = null;
  let origin;

  const http = createServer(async (req, res) => {
    const url = new URL(req.url, origin);
    const entry = { method: req.method, path: url.pathname + url.search, status: 0 };
    requests.push(entry);
    try {
      if (!server) throw new Error('app.attach(server) was not called');
      if (url.pathname === PROXY_PATH || url.pathname.startsWith(PROXY_PATH + '/')) {
        entry.status = await proxyToFapi(req, res, url, server);
        return;
      }
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(indexHtml({ publishableKey: server.publishableKey }));
        entry.status = 200;
        return;
      }
      if (req.method === 'GET' && url.pathname.startsWith('/clerk-js/')) {
        const rel = normalize(decodeURIComponent(url.pathname.slice('/clerk-js/'.length)));
        const file = join(CLERK_JS_DIST, rel);
        if (!file.startsWith(CLERK_JS_DIST + sep) || !existsSync(file) || !statSync(file).isFile()) {
          res.writeHead(404).end('not found');
          entry.status = 404;
          return;
        }
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'max-age=3600' });
        createReadStream(file).pipe(res);
        entry.status = 200;
        return;
      }
      if (url.pathname === '/favicon.ico') { res.writeHead(204).end(); entry.status = 204; return; }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      entry.status = 404;
    } catch (e) {
      entry.status = 500;
      entry.error = String(e?.stack ?? e);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    }
  });

  await new Promise((resolve, reject) => { http.once('error', reject); http.listen(0, '127.0.0.1', resolve); });
  const port = http.address().port;
  origin = `http://${host}:${port}`;
  return {
    origin,
    port,
    attach(s) { server = s; return this; },
    /** Page URL for clerk-js with proxyUrl `/__clerk` (same-origin proxy through this app). */
    sameOriginUrl: () => `${origin}/?proxy=${encodeURIComponent(PROXY_PATH)}`,
    /** Page URL for clerk-js with proxyUrl `http://127.0.0.1:<fapi>` (direct, cross-origin). */
    directUrl: () => `${origin}/?proxy=${encodeURIComponent(server.fapiUrl)}`,
    requests,
    proxied: () => requests.filter(r => r.path.startsWith(PROXY_PATH + '/')),
    close: () => new Promise(resolve => { http.closeAllConnections?.(); http.close(() => resolve()); }),
  };
}

/**
 * Forwards one app request under PROXY_PATH to the latchkey FAPI of `server` (what startLatchkey() returned)
 * through @clerk/backend's clerkFrontendApiProxy; returns the status.
 */
export async function proxyToFapi(req, res, url, server) {
  // Node request -> WHATWG Request, so @clerk/backend's proxy helper does the forwarding exactly as in production.
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  // The helper forwards the client IP it finds in X-Forwarded-For / X-Real-Ip; our app is the edge, so add it.
  if (!headers.has('x-forwarded-for')) headers.set('x-forwarded-for', req.socket.remoteAddress ?? '127.0.0.1');
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody ? Buffer.concat(await readAll(req)) : undefined;
  const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });
  const response = await clerkFrontendApiProxy(request, {
    proxyPath: PROXY_PATH,
    fapiUrl: server.fapiUrl,
    publishableKey: server.publishableKey,
    secretKey: server.secretKey,
  });
  const out = {};
  response.headers.forEach((v, k) => { if (k !== 'set-cookie') out[k] = v; });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) out['set-cookie'] = cookies;
  res.writeHead(response.status, out);
  if (response.body) Readable.fromWeb(response.body).pipe(res);
  else res.end();
  return response.status;
}

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', c => chunks.push(c));
    stream.on('end', () => resolve(chunks));
    stream.on('error', reject);
  });
}
