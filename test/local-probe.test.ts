import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answers } from '../src/system/mounts.js';
import { isReadOnlyMount, mountOf, unmount } from '../src/util/mount-table.js';
import { isDirectorySync } from '../src/util/path-exists.js';
import { troveIn } from './helpers/cli.js';
import { repoWithGenerations } from './helpers/fixtures.js';
import { tmpdir } from './helpers/tmp.js';

// The probes status makes in its own thread for a checkout on a local filesystem
// (src/system/activation/link.ts checkLink): they must answer as the thread pool's do.
describe('probes of a path on a local filesystem', () => {
  const dir = tmpdir('trove-local-probe');

  it('mountOf tells a local filesystem from the kernel\'s own and finds the mount a path is on', () => {
    expect(mountOf(dir)).toEqual({ readOnlyPoint: false, local: true });
    expect(mountOf(join(dir, 'not', 'there'))).toEqual({ readOnlyPoint: false, local: true });
    expect(mountOf('/proc/self').local).toBe(false);
    expect(mountOf('/sys/kernel').local).toBe(false);
  });

  it('a blocking listing answers as the pooled one: a directory and a file answer, a missing path gives its code', async () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'f'), 'x');
    for (const blocking of [false, true]) {
      expect(await answers(join(dir, 'd'), { blocking })).toBeNull();
      expect(await answers(join(dir, 'd', 'f'), { blocking })).toBeNull();
      expect(await answers(join(dir, 'missing'), { blocking })).toBe('ENOENT');
      expect(await answers(join(dir, 'd', 'f', 'below'), { blocking })).toBeNull();
    }
  });

  it('isDirectorySync: a directory, not a file, a missing path or a path under a file', () => {
    expect(isDirectorySync(join(dir, 'd'))).toBe(true);
    expect(isDirectorySync(join(dir, 'd', 'f'))).toBe(false);
    expect(isDirectorySync(join(dir, 'missing'))).toBe(false);
    expect(isDirectorySync(join(dir, 'd', 'f', 'below'))).toBe(false);
  });

  it('status, through the CLI: a link to a checkout that is there is ok; one whose checkout is gone is dangling', async () => {
    const { dir: gens, repo, commits } = await repoWithGenerations(2);
    await repo.close();
    const link = join(gens, 'current');
    const cli = troveIn(join(gens, 'repo'));
    expect((await cli('switch', '2', '--link', link)).code).toBe(0);
    const ok = JSON.parse((await cli('status', '--json')).stdout) as { linkOk: boolean; problem: string | null };
    expect(ok).toMatchObject({ linkOk: true, problem: null });
    const target = join(gens, 'repo', 'checkouts', commits[1]!);
    if (isReadOnlyMount(target)) unmount(target);
    rmSync(target, { recursive: true, force: true });
    rmSync(`${target}.links`, { recursive: true, force: true });
    const gone = await cli('status', '--json');
    const st = JSON.parse(gone.stdout) as { linkOk: boolean; linkStatus: { state: string }; problem: string };
    expect(st.linkOk).toBe(false);
    expect(st.linkStatus.state).toBe('dangling');
    expect(st.problem).toBe(`the link ${link} points at ${target}, which does not exist; run: trove switch 2`);
  });
});
