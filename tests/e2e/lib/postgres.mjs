// A throwaway PostgreSQL for the suites that run latchkey on a shared store (issue 16), started the way the C++
// fixture does (tests/common/pg_fixture.hpp): initdb into a temp dir and pg_ctl on a free 127.0.0.1 port, as the
// `postgres` system user through runuser when the suite runs as root (PostgreSQL refuses to run as root).
// `postgresBinDir()` is null without the binaries (Debian's postgresql-15), and the suites skip saying so.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function postgresBinDir() {
  for (const d of ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']) {
    if (existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) return d;
  }
  return null;
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve); });
  const { port } = srv.address();
  await new Promise(resolve => srv.close(resolve));
  return port;
}

/** initdb + pg_ctl start; returns { url, stop() }. */
export async function startPostgres() {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found');
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-pg-'));
  let as = [];
  if (process.getuid?.() === 0) {
    const user = (() => { try { execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' }); return 'postgres'; } catch { return 'nobody'; } })();
    const ids = execFileSync('id', [user], { encoding: 'utf8' });
    chownSync(dir, Number(/uid=(\d+)/.exec(ids)[1]), Number(/gid=(\d+)/.exec(ids)[1]));
    as = ['runuser', '-u', user, '--'];
  }
  const run = (cmd, args) => {
    const argv = [...as, join(bin, cmd), ...args];
    execFileSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 90000 }); // initdb is slow on a busy machine
  };
  const port = await freePort();
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'latchkey', '--no-sync', '-E', 'UTF8']);
  run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'data', 'server.log'), '-w', '-t', '30', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
  return {
    url: `postgresql://latchkey@127.0.0.1:${port}/postgres`,
    async stop() {
      try { run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']); } catch { /* already down */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
