import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isErrno, TroveError } from '../../util/errors.js';
import { generateKeys } from '../../remote/sign.js';
import { io, print, printJson } from '../context.js';

export function register(program: Command): void {
  program
    .command('keygen')
    .description('create an ed25519 signing key: private key to FILE (mode 0600), public key to FILE.pub')
    .requiredOption('--out <file>', 'where to write the private key (PEM)')
    .option('--force', 'overwrite existing key files')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; force?: boolean; json?: boolean }) => {
      const keys = generateKeys();
      const flag = opts.force ? 'w' : 'wx';
      try {
        await writeFile(opts.out, keys.privatePem, { mode: 0o600, flag });
        await writeFile(`${opts.out}.pub`, keys.publicPem, { mode: 0o644, flag });
      } catch (err) {
        if (isErrno(err, 'EEXIST')) throw new TroveError('E_EXISTS', `${opts.out} or ${opts.out}.pub already exists (use --force to replace)`);
        throw err;
      }
      if (opts.json) return printJson({ private: opts.out, public: `${opts.out}.pub`, keyId: keys.keyId, publicPem: keys.publicPem });
      print(`private key: ${opts.out} (keep it secret)`);
      print(`public key:  ${opts.out}.pub (key id ${keys.keyId})`);
      io().stdout.write(keys.publicPem);
    });
}
