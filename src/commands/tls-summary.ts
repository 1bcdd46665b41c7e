/**
 * What `gateway check` says about `server.tls` once the config is valid: each
 * certificate with its names and expiry, and a warning for one that expires within
 * `WARN_DAYS` (the checks refuse only certificates already expired, so this is the
 * early notice a deploy pipeline running `check` sees).
 */
import type { TlsConfig } from '../ipc/index.js';

/** Certificates expiring within this many days get a warning. */
export const WARN_DAYS = 30;

const DAY_MS = 86_400_000;

/** Lines for stdout and warnings for stderr, at time `now` (ms). */
export function tlsSummary(tls: TlsConfig, now: number): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const c of tls.certificates) {
    const days = Math.floor((Date.parse(c.notAfter) - now) / DAY_MS);
    lines.push(`  tls: ${c.certFile} (${c.names.length === 0 ? 'no DNS names' : c.names.join(', ')}) expires ${c.notAfter}, in ${days} days`);
    if (days < WARN_DAYS) warnings.push(`${c.certFile}: warning: the certificate expires in ${days} days (${c.notAfter})`);
  }
  if (tls.clientAuth !== null) lines.push(`  tls: client certificates ${tls.clientAuth.mode === 'require' ? 'required' : 'optional'}`);
  if (tls.httpPort !== null) lines.push(`  tls: plain HTTP on port ${tls.httpPort} as well`);
  return { lines, warnings };
}
