// A test certificate authority made with the openssl CLI for one suite: a CA and one server certificate for the
// given DNS names, plus what Chromium needs to trust it (--ignore-certificate-errors-spki-list takes the SHA-256 of
// a certificate's SubjectPublicKeyInfo, base64) and what node needs (the CA's PEM).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function openssl(args, input) {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30000 });
}

/**
 * Makes a CA and a leaf certificate for `names` (DNS SANs) and 127.0.0.1 (node processes reach the listeners by
 * address, trusting the CA through NODE_EXTRA_CA_CERTS or a `ca` option). Returns
 * { dir, caFile, caPem, certFile (leaf + CA chain), keyFile, cert, key, spki, remove() }.
 */
export function makeTestCa(names) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-ca-'));
  const p = f => join(dir, f);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2',
    '-subj', '/CN=latchkey e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', `/CN=${names[0]}`]);
  writeFileSync(p('leaf.ext'), [
    `subjectAltName=${names.map(n => `DNS:${n}`).join(',')},IP:127.0.0.1`,
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  openssl(['x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('leaf.crt'), '-days', '2', '-extfile', p('leaf.ext')]);
  const caPem = readFileSync(p('ca.crt'), 'utf8');
  const cert = readFileSync(p('leaf.crt'), 'utf8');
  const key = readFileSync(p('leaf.key'), 'utf8');
  writeFileSync(p('chain.pem'), cert + caPem);
  const pub = openssl(['x509', '-in', p('leaf.crt'), '-pubkey', '-noout']);
  const der = openssl(['pkey', '-pubin', '-outform', 'der'], pub);
  const spki = openssl(['dgst', '-sha256', '-binary'], der).toString('base64');
  return {
    dir, caPem, cert, key, spki,
    caFile: p('ca.crt'),
    certFile: p('chain.pem'),
    keyFile: p('leaf.key'),
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}
