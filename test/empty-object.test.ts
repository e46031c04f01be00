// Zero bytes are both the empty tree and the empty file: one object, id
// e3b0c442..., that a tree may name as either. A pull that meets both in one
// tree, and a lazy install that leaves the file on the remote, must take it
// as the same object, not as one object of two kinds.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { troveOk } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

describe('the empty tree and the empty file in one pull', () => {
  const base = tmpdir('trove-empty');
  afterAll(() => removeTree(base));

  it('are fetched once, as the one object they are, and checked out as a directory and a file', async () => {
    const src = join(base, 'src');
    // In the same directory: the empty directory is queued while the empty file is met.
    mkdirSync(join(src, 'usr', 'a-empty-dir'), { recursive: true });
    writeFileSync(join(src, 'usr', 'b-empty-file'), '');
    writeFileSync(join(src, 'usr', 'c-file'), 'content\n');
    const server = join(base, 'server');
    const client = join(base, 'client');
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'empty both ways');
    await troveOk(server, 'summary');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', server);
    await troveOk(client, 'pull', 'origin', 'main');
    await troveOk(client, 'fsck');
    const out = join(base, 'out');
    await troveOk(client, 'checkout', 'origin/main', out);
    expect(statSync(join(out, 'usr', 'a-empty-dir')).isDirectory()).toBe(true);
    expect(readdirSync(join(out, 'usr', 'a-empty-dir'))).toEqual([]);
    const f = statSync(join(out, 'usr', 'b-empty-file'));
    expect(f.isFile() && f.size === 0).toBe(true);
  });
});
