import type { Command } from 'commander';
import { writeKeyPair } from '../../remote/sign-commit.js';
import { io, printJson, say } from '../context.js';

export function register(program: Command): void {
  program
    .command('keygen')
    .description('create an ed25519 signing key: private key to FILE (mode 0600), public key to FILE.pub')
    .requiredOption('--out <file>', 'where to write the private key (PEM)')
    .option('--force', 'overwrite existing key files')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; force?: boolean; json?: boolean }) => {
      const keys = await writeKeyPair(opts.out, { force: opts.force });
      if (opts.json) return printJson(keys);
      say(`private key: ${keys.private} (keep it secret)`);
      say(`public key:  ${keys.public} (key id ${keys.keyId})`);
      io().stdout.write(keys.publicPem);
    });
}
