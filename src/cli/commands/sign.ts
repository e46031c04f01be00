import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isErrno } from '../../util/errors.js';
import { decodeCommit } from '../../format/codec.js';
import { resolveRev } from '../../repo/resolve.js';
import { writeAtomic } from '../../remote/files.js';
import { commitSigPath } from '../../remote/layout.js';
import { mergeSignature, parsePrivateKey, signBytes } from '../../remote/sign.js';
import { print, printJson, withRepo } from '../context.js';

export function register(program: Command): void {
  program
    .command('sign')
    .description('sign a commit with an ed25519 key (detached signature in signatures/<commit>.sig, served with the repository)')
    .argument('<rev>', 'ref, commit id or prefix')
    .requiredOption('--key <file>', 'private key (from trove keygen)')
    .option('--json', 'print the result as JSON')
    .action(async (rev: string, opts: { key: string; json?: boolean }, cmd: Command) => {
      const key = parsePrivateKey(await readFile(opts.key, 'utf8'));
      await withRepo(cmd, async (repo) => {
        const id = await resolveRev(repo, rev);
        const bytes = await repo.store.get(id);
        decodeCommit(bytes);
        const line = signBytes(key, bytes);
        const path = join(repo.path, commitSigPath(id));
        const existing = await readFile(path, 'utf8').catch((err: unknown) => {
          if (isErrno(err, 'ENOENT')) return undefined;
          throw err;
        });
        await writeAtomic(path, mergeSignature(existing, line), repo.store.tmpDir);
        if (opts.json) return printJson({ commit: id, keyId: line.keyId, path: commitSigPath(id) });
        print(`signed ${id} with key ${line.keyId} (${commitSigPath(id)})`);
      });
    });
}
