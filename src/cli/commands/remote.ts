import type { Command } from 'commander';
import { addRemote, listRemotes, removeRemote } from '../../remote/config.js';
import { keyIdOf, parsePublicKey } from '../../remote/sign.js';
import { readKeyFile } from '../../remote/sign-commit.js';
import { print, printJson, say, withRepo } from '../context.js';

export function register(program: Command): void {
  const remote = program.command('remote').description('add, list or remove remotes (stored in <repo>/config)');
  remote
    .command('add')
    .description('add a remote: an http(s) URL or the path of a repository directory')
    .argument('<name>', 'remote name')
    .argument('<url>', 'http://…, https://… or a path')
    .option('--sign-key <pubkey>', 'public key file: the summary and every pulled commit must be signed by it')
    .option('--json', 'print the remote as JSON')
    .action(async (name: string, url: string, opts: { signKey?: string; json?: boolean }, cmd: Command) => {
      const pem = opts.signKey ? await readKeyFile(opts.signKey, 'public key') : undefined;
      const r = await withRepo(cmd, (repo) => addRemote(repo.path, name, url, pem));
      const keyId = pem ? keyIdOf(parsePublicKey(pem)) : null;
      if (opts.json) return printJson({ remote: name, url: r.url, keyId });
      say(`remote ${name} -> ${r.url}${keyId ? ` (signed by key ${keyId})` : ''}`);
    });
  remote
    .command('list', { isDefault: true })
    .description('list remotes')
    .option('--json', 'print remotes as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const remotes = await withRepo(cmd, (repo) => listRemotes(repo.path));
      const rows = Object.entries(remotes)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, r]) => ({ remote: name, url: r.url, keyId: r.signKey ? keyIdOf(parsePublicKey(r.signKey)) : null }));
      if (opts.json) return printJson(rows);
      for (const r of rows) print(`${r.remote}\t${r.url}${r.keyId ? `\tkey ${r.keyId}` : ''}`);
    });
  remote
    .command('remove')
    .description('remove a remote (its remote-tracking refs stay until deleted: --prune, or trove refs delete remotes/NAME/REF)')
    .argument('<name>', 'remote name')
    .option('--prune', 'also delete its remote-tracking refs (refs/remotes/NAME/...), so gc frees what only they kept')
    .option('--json', 'print the refs deleted as JSON')
    .action(async (name: string, opts: { prune?: boolean; json?: boolean }, cmd: Command) => {
      const deleted = await withRepo(cmd, (repo) => removeRemote(repo, name, { prune: opts.prune }));
      if (opts.json) return printJson({ remote: name, deleted });
      for (const ref of deleted) say(`deleted ${ref}`);
    });
}
