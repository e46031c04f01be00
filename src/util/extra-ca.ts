import { readFileSync } from 'node:fs';

/*
 * NODE_EXTRA_CA_CERTS costs every Node process that has it a parse of the
 * whole file at start, before any of trove's code runs: 40-45 ms for the
 * system bundle (/etc/ssl/certs/ca-certificates.crt, about 140
 * certificates), against 27 ms for all the rest of `node -e 0` (measured
 * with and without it, docs/benchmarks.md, "Node's start and
 * NODE_EXTRA_CA_CERTS"). Most commands, and most mounts, never make a TLS
 * connection (a complete repository, or remotes over plain HTTP). So `trove`
 * starts Node without the variable (bin/trove.js's first line), and so does
 * the mount daemon, on the way to a mount that waits for it (daemonEnv);
 * both hand the file on under EXTRA_CA_VAR. An HTTPS transport made there
 * reads it when it is first needed and trusts Node's roots and the file's
 * certificates, which is what Node does with NODE_EXTRA_CA_CERTS itself.
 */

/** Where a process trove started without NODE_EXTRA_CA_CERTS finds that file. */
export const EXTRA_CA_VAR = 'TROVE_EXTRA_CA_CERTS';

/** `env` for a trove process that reads NODE_EXTRA_CA_CERTS only when it makes a TLS connection (see above). */
export function deferExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return env;
  const out: NodeJS.ProcessEnv = { ...env, [EXTRA_CA_VAR]: file };
  delete out.NODE_EXTRA_CA_CERTS;
  return out;
}

/**
 * `env` as the user set it, for a command of the user's that trove runs
 * (`bisect run`): NODE_EXTRA_CA_CERTS back in place of EXTRA_CA_VAR, so that
 * a Node program among them trusts what it would have trusted.
 */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!(EXTRA_CA_VAR in env)) return env;
  const out: NodeJS.ProcessEnv = { ...env };
  const file = out[EXTRA_CA_VAR];
  delete out[EXTRA_CA_VAR];
  if (file && !out.NODE_EXTRA_CA_CERTS) out.NODE_EXTRA_CA_CERTS = file;
  return out;
}

let cached: { file: string; ca: string[] } | undefined;

/**
 * The certificates a TLS connection of this process trusts when it was
 * started by deferExtraCaCerts: `roots()` (Node's, `tls.rootCertificates`,
 * which Node encodes on first use; given by the caller, so that this module
 * does not load `node:tls`, and asked for only here) and those of the file;
 * undefined (Node's own store, which holds NODE_EXTRA_CA_CERTS when set)
 * otherwise. A file that cannot be read adds nothing, as with Node, which
 * warns.
 */
export function deferredCa(roots: () => readonly string[], env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const file = env[EXTRA_CA_VAR];
  if (!file || env.NODE_EXTRA_CA_CERTS) return undefined;
  if (cached?.file === file) return cached.ca;
  let extra: string[] = [];
  try {
    extra = [readFileSync(file, 'utf8')];
  } catch (err) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
  }
  cached = { file, ca: [...roots(), ...extra] };
  return cached.ca;
}
