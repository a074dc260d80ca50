// An app server as a Clerk user writes one: Express with @clerk/express's unmodified clerkMiddleware() and
// getAuth(req), configured from the environment (CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, CLERK_API_URL,
// CLERK_PROXY_URL). Run as its own node process (node lib/express-app.mjs), so it trusts a test CA the way an app
// does (NODE_EXTRA_CA_CERTS). Settings: APP_TLS_CERT / APP_TLS_KEY (https when set), APP_CLERK_JS_URL (the
// clerk.browser.js the page loads; default: node_modules' copy under /clerk-js/). Prints {"port":N} once listening.
//   GET /          a page that loads clerk.browser.js with the publishable key and, when CLERK_PROXY_URL is set, that
//                  proxy URL (window.Clerk, not loaded yet)
//   GET /clerk-js/* node_modules/@clerk/clerk-js/dist/*
//   GET /me        {"userId","sessionId"} from getAuth(req)
import express from 'express';
import { clerkMiddleware, getAuth } from '@clerk/express';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { join, normalize, sep } from 'node:path';
import { CLERK_JS_DIST } from './page.mjs';

const web = express();
web.get('/clerk-js/*path', (req, res) => {
  const file = normalize(join(CLERK_JS_DIST, ...[req.params.path].flat()));
  if (!file.startsWith(CLERK_JS_DIST + sep) || !existsSync(file)) return res.status(404).end();
  res.type(file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream');
  createReadStream(file).pipe(res);
});
web.use(clerkMiddleware());
web.get('/', (req, res) => {
  const src = process.env.APP_CLERK_JS_URL || '/clerk-js/clerk.browser.js';
  res.type('html').send(`<!doctype html><html><head><meta charset="utf-8"><title>app</title>
<script>window.__clerk_publishable_key = ${JSON.stringify(process.env.CLERK_PUBLISHABLE_KEY)};
${process.env.CLERK_PROXY_URL ? `window.__clerk_proxy_url = ${JSON.stringify(process.env.CLERK_PROXY_URL)};` : ''}
window.__e2e = { navigations: [], events: [] };</script>
<script src="${src}" crossorigin="anonymous"></script></head><body>app</body></html>`);
});
web.get('/me', (req, res) => {
  const auth = getAuth(req);
  res.json({ userId: auth.userId ?? null, sessionId: auth.sessionId ?? null });
});

const tls = process.env.APP_TLS_CERT
  ? { cert: readFileSync(process.env.APP_TLS_CERT), key: readFileSync(process.env.APP_TLS_KEY) } : null;
const server = tls ? createHttps(tls, web) : createHttp(web);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => { server.closeAllConnections?.(); server.close(() => process.exit(0)); });
