import type { Command } from 'commander';
import { checkoutRev } from '../../repo/checkout.js';
import { inProfile } from '../../system/revisions.js';
import { detail, printJson, say, withRepoAt } from '../context.js';
import { type DirectCommand, registerDirect } from '../direct.js';
import { withMeter } from '../progress.js';
import { shortId } from '../printers.js';
import { usage } from '../../util/errors.js';

export const command: DirectCommand<{ hardlink?: boolean; copy?: boolean; json?: boolean }> = {
  name: 'checkout',
  description: 'materialise a commit as a directory of copies (or hard links to the store with --hardlink)',
  args: [
    { syntax: '<rev>', description: 'ref, commit id or prefix' },
    { syntax: '<dest>', description: 'destination (must not exist, or be an empty directory)' },
  ],
  options: [
    { flags: '-H, --hardlink', description: 'hard-link files to the store instead of copying them (fast; the files ARE the store: never edit them)' },
    { flags: '-C, --copy', description: 'copy every file (the default; kept for scripts that ask for it)' },
    { flags: '--json', description: 'print the result as JSON' },
  ],
  help:
    '\nBy default every file is a copy (a reflink where the filesystem has them), hashed as it\n' +
    'is written and refused if an object rotted: the checkout is yours to edit.\n' +
    "With --hardlink, files are hard links to the store's objects (or to a variant with the\n" +
    'right mode and owner): one link per file, but a write, truncate or chmod of one changes\n' +
    'the object in every commit that has it (trove fsck then reports it corrupt). Use it only\n' +
    'for trees nothing writes to. Ownership is restored only when running as root.',
  async run([rev, dest], opts, repoOption, globals) {
    if (opts.hardlink && opts.copy) throw usage('--hardlink and --copy exclude each other');
    const started = Date.now();
    const { commit, mode: method, linkedInWorker, ...r } = await withRepoAt(repoOption, (repo) =>
      withMeter({ ...globals, ...opts }, 'checkout', (m) => checkoutRev(repo, rev!, dest!, { hardlink: opts.hardlink === true, onProgress: m.onProgress }, inProfile(repo))),
    );
    detail(`checkout: ${rev} is commit ${commit}; ${method === 'hardlink' ? 'hard links to the store' : 'copies, each re-hashed as written'}`);
    detail(`checkout: ${r.files} files (${r.linked} linked, ${r.copied} copied), ${r.dirs} dirs, ${r.symlinks} symlinks in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    if (linkedInWorker > 0) detail(`checkout: ${linkedInWorker} of the links made by a second thread`);
    if (opts.json) return printJson({ commit, dest, method, ...r });
    say(`checked out ${shortId(commit)} to ${dest} (${method}): ${r.files} files (${r.linked} linked, ${r.copied} copied), ${r.dirs} dirs, ${r.symlinks} symlinks`);
  },
};

export function register(program: Command): void {
  registerDirect(program, command);
}
