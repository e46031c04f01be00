// `trove pkg add` of an archive large enough for its transaction to start the writer thread
// (src/store/staged-writer.ts, past 512 files of content): the import's last step, making the
// archive's public files readable, waits for that thread's writes. A process that ended while that
// wait was pending (an asynchronous wait does not keep Node's event loop alive) would exit 0 with
// nothing added; this checks the exit status, the package and every file it holds.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectSameTree } from './helpers/fstree.js';
import { trove } from './helpers/cli.js';
import { sh, tmpdir } from './helpers/tmp.js';

const DIRS = 30;
const PER_DIR = 100;

describe('pkg add of a tar archive of 3,000 files (the writer thread runs)', () => {
  it('exits 0 only once the package and all its files are stored, and fsck finds them intact', async () => {
    const dir = tmpdir('trove-pkg-writer');
    const src = join(dir, 'src');
    for (let d = 0; d < DIRS; d++) {
      const sub = join(src, 'usr', 'share', `d${d}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < PER_DIR; f++) {
        const p = join(sub, `f${f}`);
        // Distinct contents, so each file is an object of its own; every tenth private, every seventh executable.
        writeFileSync(p, `file ${d}/${f}\n`.repeat(1 + ((d * PER_DIR + f) % 40)));
        chmodSync(p, f % 10 === 0 ? 0o600 : f % 7 === 0 ? 0o755 : 0o644);
      }
    }
    const tar = join(dir, 'big.tar');
    sh('tar', ['-cf', tar, '--owner=0', '--group=0', '-C', src, '.']);
    const repo = join(dir, 'repo');
    expect((await trove(['--repo', repo, 'init'])).code).toBe(0);

    const add = await trove(['--repo', repo, 'pkg', 'add', tar, '--name', 'big', '--arch', 'all', '--version', '1', '--json']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const out = JSON.parse(add.stdout) as { ref: string; commit: string; report: { files: number }; written: { objects: number } };
    expect(out.ref).toBe('pkg/big/all');
    expect(out.report.files).toBe(DIRS * PER_DIR);
    // Every file, every directory (src, usr, usr/share and the 30 below it) and the commit.
    expect(out.written.objects).toBe(DIRS * PER_DIR + DIRS + 3 + 1);

    const list = JSON.parse((await trove(['--repo', repo, 'pkg', 'list', '--json'])).stdout) as { ref: string; commit: string }[];
    expect(list).toEqual([expect.objectContaining({ ref: 'pkg/big/all', commit: out.commit })]);
    const fsck = await trove(['--repo', repo, 'fsck']);
    expect(fsck.stdout).toContain(`${DIRS * PER_DIR} blobs reachable`);
    expect(fsck.code).toBe(0);
    const copy = join(dir, 'out');
    expect((await trove(['--repo', repo, 'checkout', 'pkg/big/all', copy])).code).toBe(0);
    expectSameTree(src, copy);
  });
});
