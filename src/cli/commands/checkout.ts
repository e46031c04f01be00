import type { Command } from 'commander';
import { checkoutRev } from '../../repo/checkout.js';
import { print, printJson, withRepo } from '../context.js';
import { shortId } from '../printers.js';

export function register(program: Command): void {
  program
    .command('checkout')
    .description('materialise a commit as a directory: a hard-link farm, or copies with --copy')
    .argument('<rev>', 'ref, commit id or prefix')
    .argument('<dest>', 'destination (must not exist, or be an empty directory)')
    .option('--copy', 'copy files instead of hard-linking them to the store')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nHard-linked files share their inode with the store: treat the checkout as read-only.\n' +
        'Copies (--copy, and variants made for a different mode or owner) are hashed as they are\n' +
        'written and refused if an object rotted; linked files are checked by trove fsck.\n' +
        'Ownership is restored only when running as root.',
    )
    .action(async (rev: string, dest: string, opts: { copy?: boolean; json?: boolean }, cmd: Command) => {
      const { commit, ...r } = await withRepo(cmd, (repo) => checkoutRev(repo, rev, dest, { copy: opts.copy }));
      if (opts.json) return printJson({ commit, dest, ...r });
      print(`checked out ${shortId(commit)} to ${dest} (${r.mode}): ${r.files} files (${r.linked} linked, ${r.copied} copied), ${r.dirs} dirs, ${r.symlinks} symlinks`);
    });
}
