import type { Command } from 'commander';
import { readPrivateKey, signCommit } from '../../remote/sign-commit.js';
import { printJson, say, withRepo } from '../context.js';

export function register(program: Command): void {
  program
    .command('sign')
    .description('sign a commit with an ed25519 key (detached signature in signatures/<commit>.sig, served with the repository)')
    .argument('<rev>', 'ref, commit id or prefix')
    .requiredOption('--key <file>', 'private key (from trove keygen)')
    .option('--json', 'print the result as JSON')
    .action(async (rev: string, opts: { key: string; json?: boolean }, cmd: Command) => {
      const key = await readPrivateKey(opts.key);
      const r = await withRepo(cmd, (repo) => signCommit(repo, { rev, key }));
      if (opts.json) return printJson(r);
      say(`signed ${r.commit} with key ${r.keyId} (${r.path})`);
    });
}
