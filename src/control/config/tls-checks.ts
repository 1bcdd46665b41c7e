/**
 * Checks and snapshot building for `server.tls` (after the schema passed).
 *
 * The files are read and checked here, in the control plane, so `gateway check` and a
 * reload refuse what a worker could not serve, and workers get the PEM text in the
 * snapshot (they never read key files). For each certificate:
 *  - `certFile` holds one or more certificates, leaf first, each issued (named and signed)
 *    by the next (a chain out of order fails in some clients only, which is the worst way
 *    to find out), and no private key unless it is also the `keyFile` (nginx's combined
 *    file);
 *  - every certificate of the chain is valid now (an expired one fails every client, so
 *    a config that serves one is refused rather than started);
 *  - `keyFile` is an unencrypted private key (the gateway never holds a passphrase) that
 *    matches the leaf, an RSA key has at least 2048 bits (what browsers and the CA/B
 *    Forum require), and OpenSSL accepts the pair at its security level;
 *  - every certificate has the key type (RSA, ECDSA ...) of the first: Node adds a
 *    certificate chosen by SNI next to the default one, in the slot of its key type, so
 *    with two types a client could be handed the default certificate for another name
 *    (nodejs/node#54235);
 *  - the names it answers for are the leaf's subjectAltName DNS entries. Only the first
 *    certificate (the default) may have none, and no name is served by two certificates:
 *    SNI could only ever pick one of them.
 * `clientAuth.caFile` holds CA certificates (or self-signed roots), each valid now and
 * leading to a root in the same file (see readCaFile).
 * Session ticket keys are drawn here for each loaded config: every worker of one config
 * version resumes the sessions of the others, and a reload rotates them.
 */
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { ClientAuthConfig, TlsCertificate, TlsConfig } from '../../ipc/index.js';
import type { KeyPath, Report } from './loader.js';

/** A schema-valid `server.tls`. */
interface RawTls {
  certificates: { certFile: string; keyFile: string }[];
  minVersion: TlsConfig['minVersion'];
  ciphers?: string | null;
  handshakeTimeoutMs: number;
  httpPort?: number | null;
  clientAuth?: { caFile: string; mode: ClientAuthConfig['mode'] } | null;
}

/** The schema-valid part of the document this file reads. */
export interface RawTlsDocument {
  server: { port: number; tls?: RawTls };
}

/** What the checks need besides the document. */
export interface TlsCheckContext {
  /** Relative file names are resolved against it. */
  readonly configDir: string;
  /** Current time in ms (tests pin it). */
  readonly now?: number;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Check `server.tls` and resolve it for the snapshot; null when TLS is off or invalid. */
export async function checkTls(doc: RawTlsDocument, ctx: TlsCheckContext, report: Report): Promise<TlsConfig | null> {
  const raw = doc.server.tls;
  if (raw === undefined) return null;
  const at = (...rest: (string | number)[]): KeyPath => ['server', 'tls', ...rest];
  let ok = true;
  const fail = (path: KeyPath, message: string): void => {
    ok = false;
    report(path, message);
  };
  if (raw.httpPort != null && raw.httpPort === doc.server.port) fail(at('httpPort'), `must differ from server.port (${doc.server.port}), where the TLS listener is`);
  if (raw.ciphers != null) {
    try {
      createSecureContext({ ciphers: raw.ciphers, minVersion: raw.minVersion });
    } catch (err) {
      fail(at('ciphers'), `OpenSSL refuses this cipher list: ${(err as Error).message}`);
    }
  }
  const now = ctx.now ?? Date.now();
  const certificates: TlsCertificate[] = [];
  const servedBy = new Map<string, number>();
  let firstType: string | undefined;
  for (const [i, entry] of raw.certificates.entries()) {
    const certFile = resolve(ctx.configDir, entry.certFile);
    const keyFile = resolve(ctx.configDir, entry.keyFile);
    const cert = await readCertificate(certFile, certFile === keyFile, now, (m) => fail(at('certificates', i, 'certFile'), m));
    const key = await readKey(keyFile, (m) => fail(at('certificates', i, 'keyFile'), m));
    if (cert === null || key === null) continue;
    if (!cert.leaf.checkPrivateKey(key.object)) {
      fail(at('certificates', i, 'keyFile'), `${key.file}: does not match the certificate in ${cert.file}`);
      continue;
    }
    const bits = key.object.asymmetricKeyDetails?.modulusLength;
    if (key.object.asymmetricKeyType?.startsWith('rsa') === true && bits !== undefined && bits < 2048) {
      fail(at('certificates', i, 'keyFile'), `${key.file}: a ${bits}-bit RSA key; clients refuse RSA keys below 2048 bits`);
      continue;
    }
    const type = key.object.asymmetricKeyType ?? 'unknown';
    if (i === 0) firstType = type;
    else if (firstType !== undefined && type !== firstType) {
      fail(at('certificates', i, 'keyFile'), `${key.file}: an ${keyTypeName(type)} key, but server.tls.certificates[0] has an ${keyTypeName(firstType)} key; all certificates must have the same key type (Node could hand a client the default certificate for another name: nodejs/node#54235)`);
      continue;
    }
    try {
      createSecureContext({ cert: cert.pem, key: key.pem, minVersion: raw.minVersion });
    } catch (err) {
      fail(at('certificates', i), `OpenSSL refuses this certificate and key: ${(err as Error).message}`);
      continue;
    }
    const names = [...new Set(dnsNames(cert.leaf))];
    if (names.length === 0 && i > 0) {
      fail(at('certificates', i, 'certFile'), `${cert.file}: has no DNS names in its subjectAltName, so SNI can never choose it (only the first certificate, the default, may have none)`);
      continue;
    }
    for (const name of names) {
      const first = servedBy.get(name);
      if (first === undefined) servedBy.set(name, i);
      else fail(at('certificates', i, 'certFile'), `${cert.file}: "${name}" is already served by server.tls.certificates[${first}]`);
    }
    certificates.push({ cert: cert.pem, key: key.pem, names, certFile: cert.file, notAfter: new Date(cert.leaf.validTo).toISOString() });
  }
  let clientAuth: ClientAuthConfig | null = null;
  if (raw.clientAuth != null) {
    const ca = await readCaFile(resolve(ctx.configDir, raw.clientAuth.caFile), now, (m) => fail(at('clientAuth', 'caFile'), m));
    if (ca !== null) clientAuth = { ca, mode: raw.clientAuth.mode };
  }
  if (!ok) return null;
  return {
    certificates,
    minVersion: raw.minVersion,
    ciphers: raw.ciphers ?? null,
    handshakeTimeoutMs: raw.handshakeTimeoutMs,
    httpPort: raw.httpPort ?? null,
    clientAuth,
    ticketKeys: randomBytes(48).toString('hex'),
  };
}

/**
 * Read and check a certificate chain file; null (after `fail`) when it is unusable.
 * `alsoKey`: the file is the keyFile too, so a private key in it is expected.
 */
async function readCertificate(file: string, alsoKey: boolean, now: number, fail: (message: string) => void): Promise<{ file: string; pem: string; leaf: X509Certificate } | null> {
  const text = await readText(file, 'certificate', fail);
  if (text === null) return null;
  if (!alsoKey && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    fail(`${file}: holds a private key; certFile takes certificates only (the key goes in keyFile)`);
    return null;
  }
  const parsed = parseCertificates(file, text, fail);
  if (parsed === null) return null;
  const { pem, certs: chain } = parsed;
  for (let n = 0; n + 1 < chain.length; n++) {
    if (!issuedBy(chain[n]!, chain[n + 1]!)) {
      fail(`${file}: certificate ${n + 2} did not issue certificate ${n + 1}; the chain must be in order, leaf first`);
      return null;
    }
  }
  for (const [n, c] of chain.entries()) {
    const which = n === 0 ? '' : ` (certificate ${n + 1} of the chain)`;
    if (Date.parse(c.validFrom) > now) {
      fail(`${file}: not valid before ${new Date(c.validFrom).toISOString()}${which}`);
      return null;
    }
    if (Date.parse(c.validTo) <= now) {
      fail(`${file}: expired on ${new Date(c.validTo).toISOString()}${which}`);
      return null;
    }
  }
  return { file, pem, leaf: chain[0]! };
}

/** Read and check a private key file; null (after `fail`) when it is unusable. */
async function readKey(file: string, fail: (message: string) => void): Promise<{ file: string; pem: string; object: KeyObject } | null> {
  const pem = await readText(file, 'key', fail);
  if (pem === null) return null;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    fail(`${file}: the key is encrypted; the gateway needs it unencrypted, in a file only its user can read (openssl pkey -in ${file} -out <new file>)`);
    return null;
  }
  try {
    return { file, pem, object: createPrivateKey(pem) };
  } catch (err) {
    fail(`${file}: not a PEM private key: ${(err as Error).message}`);
    return null;
  }
}

/**
 * Read and check the CA certificates client certificates must chain to; their PEM, or
 * null after `fail`. Each must be a CA (the CA flag, or a self-signed root: old v1 roots
 * have no flag), valid now, and lead to a self-signed root in the same file: Node checks a
 * client's chain up to a root, so a file of intermediates alone would refuse every client.
 */
async function readCaFile(file: string, now: number, fail: (message: string) => void): Promise<string | null> {
  const text = await readText(file, 'CA', fail);
  if (text === null) return null;
  const parsed = parseCertificates(file, text, fail);
  if (parsed === null) return null;
  const { pem, certs } = parsed;
  const selfSigned = (c: X509Certificate) => issuedBy(c, c);
  for (const [n, cert] of certs.entries()) {
    const which = `certificate ${n + 1} (${cert.subject.replace(/\n/g, ', ')})`;
    if (!cert.ca && !selfSigned(cert)) {
      fail(`${file}: ${which} is not a CA certificate; clientAuth.caFile takes the CAs that issue client certificates`);
      return null;
    }
    if (Date.parse(cert.validFrom) > now) {
      fail(`${file}: ${which} is not valid before ${new Date(cert.validFrom).toISOString()}`);
      return null;
    }
    if (Date.parse(cert.validTo) <= now) {
      fail(`${file}: ${which} expired on ${new Date(cert.validTo).toISOString()}`);
      return null;
    }
    // Up the chain inside the file, to a root (at most one step per certificate).
    let at = cert;
    for (let hops = 0; !selfSigned(at); hops++) {
      const issuer = certs.find((c) => c !== at && issuedBy(at, c));
      if (issuer === undefined || hops >= certs.length) {
        fail(`${file}: ${which} does not lead to a root (self-signed) certificate in the file; add the root CA that issued it`);
        return null;
      }
      at = issuer;
    }
  }
  return pem;
}

/** Whether `issuer` issued `cert`: named as its issuer, and its key verifies the signature. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * The certificates of `text`: their PEM blocks alone (anything else in the file left out)
 * and their parsed form; null (after `fail`) when there are none or one does not parse.
 */
function parseCertificates(file: string, text: string, fail: (message: string) => void): { pem: string; certs: X509Certificate[] } | null {
  const blocks = text.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    fail(`${file}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it`);
    return null;
  }
  const certs: X509Certificate[] = [];
  for (const [n, block] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(block));
    } catch (err) {
      fail(`${file}: certificate ${n + 1} does not parse: ${(err as Error).message}`);
      return null;
    }
  }
  return { pem: blocks.join('\n') + '\n', certs };
}

/** The text of `file`, or null (after `fail`) when it cannot be read. */
async function readText(file: string, what: string, fail: (message: string) => void): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return null;
  }
}

/** The DNS names of a leaf's subjectAltName, lower case. */
function dnsNames(leaf: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (leaf.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase());
  }
  return names;
}

/** `rsa` → RSA, `ec` → ECDSA ... for messages. */
function keyTypeName(type: string): string {
  return type === 'ec' ? 'ECDSA' : type === 'rsa' ? 'RSA' : type === 'rsa-pss' ? 'RSA-PSS' : type === 'ed25519' ? 'Ed25519' : type === 'ed448' ? 'Ed448' : type;
}
