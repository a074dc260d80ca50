// better-auth (npm, pinned in package.json) on Node's http server with the in-memory adapter: the peer that
// bench/load/run.sh compares GET /v1/client and password sign-in with. One process (the memory adapter
// cannot be shared by a cluster); prints {"event":"listening","port":N}.
import http from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";

const port = Number(process.env.PORT || 0);
const db = { user: [], session: [], account: [], verification: [] };
const auth = betterAuth({
  database: memoryAdapter(db),
  secret: process.env.PEER_SECRET || "peer-secret-0123456789abcdef0123456789",
  baseURL: "http://127.0.0.1",
  trustedOrigins: ["http://127.0.0.1"],
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
});
const handler = toNodeHandler(auth);
const server = http.createServer((req, res) => handler(req, res));
server.keepAliveTimeout = 65000;
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: server.address().port }));
});
