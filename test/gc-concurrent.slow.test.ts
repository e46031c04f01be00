// A stress test, in the `slow` project (npm run test:fast leaves it out): gc against a commit of 3,000 files.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTroveError } from '../src/util/errors.js';
import { fsck } from '../src/repo/fsck.js';
import { gc } from '../src/repo/gc.js';
import { systemRoots } from '../src/system/roots.js';
import { Repo } from '../src/repo/repo.js';
import { TROVE_BIN } from './helpers/cli.js';
import { addPkg } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';

describe('gc', () => {
  it('while another process commits a large directory, nothing referenced is lost', async () => {
    const dir = tmpdir();
    const repoPath = join(dir, 'repo');
    const repo = await Repo.init(repoPath);
    for (let v = 1; v <= 3; v++) await addPkg(repo, dir, 'junk', 20, `${v}.0`);
    await repo.refs.delete('pkg/junk/amd64');
    const big = join(dir, 'big');
    for (let i = 0; i < 3000; i++) {
      const d = join(big, `d${i % 30}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `f${i}`), randomBytes(2048 + (i % 7) * 1024));
    }
    // A real process: the writer holds its shared lock from another process while gc waits here.
    const child = spawn(process.execPath, [TROVE_BIN, '--repo', repoPath, 'commit', big, '--ref', 'big'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let running = true;
    void exited.then(() => (running = false));
    // Start gc only once the writer holds its shared lock (an exclusive try-lock fails), so the two overlap.
    for (;;) {
      expect(running, `the commit ended before it was seen holding the lock: ${stderr}`).toBe(true);
      const held = await repo.lock('exclusive', { wait: false }).then(
        async (release) => {
          await release();
          return false;
        },
        (err: unknown) => {
          if (isTroveError(err, 'E_LOCKED')) return true;
          throw err;
        },
      );
      if (held) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    let waits = 0;
    const first = await gc(repo, { roots: systemRoots, onWait: () => waits++ });
    expect(waits).toBe(1);
    // gc got its lock only after the writer's whole transaction, ref update included.
    expect(await repo.refs.read('big')).toBeDefined();
    expect(first.deleted.objects).toBeGreaterThan(0);
    expect(await exited, stderr).toBe(0);
    expect((await gc(repo, { roots: systemRoots })).deleted.objects).toBe(0);
    const report = await fsck(repo, { roots: systemRoots });
    expect(report.problems).toEqual([]);
    expect(report.blobs).toBeGreaterThanOrEqual(3000);
    expect(await repo.refs.read('big')).toBeDefined();
    await repo.close();
  });
});
