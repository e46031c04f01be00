// The CLI's CommonJS file is compiled with a V8 code cache written beside it at build time
// (src/cli/code-cache.ts). A cache that does not come from the file as it is now is never used.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, removeTree, tmpdir } from './helpers/tmp.js';

const MODULE = pathToFileURL(join(ROOT, 'dist', 'cli', 'code-cache.js')).href;

/** Runs `body` in a Node without flags (V8 takes a cache only under the flags it was made with), with `m` the module. */
function inNode(body: string): string {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(MODULE)}).then((m) => { ${body} })`], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('the code cache of a CommonJS file', () => {
  const dir = tmpdir('trove-code-cache');
  afterAll(() => removeTree(dir));

  it('the bundle is built with a cache V8 takes', () => {
    expect(inNode(`console.log(m.codeCacheState(${JSON.stringify(join(ROOT, 'dist', 'bundle', 'cli-main.cjs'))}))`)).toBe('accepted');
  });

  it('loads a module through its cache, and ignores a cache made from other bytes of the same length', () => {
    const file = join(dir, 'mod.cjs');
    const src = (word: string) => `const path = require('node:path');\nmodule.exports = { word: '${word}', base: path.basename(__filename), dir: __dirname };\n`;
    writeFileSync(file, src('first'));
    const f = JSON.stringify(file);
    expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('none');
    inNode(`m.writeCodeCache(${f})`);
    expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('accepted');
    expect(JSON.parse(inNode(`console.log(JSON.stringify(m.requireWithCodeCache(${f})))`))).toEqual({ word: 'first', base: 'mod.cjs', dir });
    // A damaged cache (bytes flipped, same size) is refused by V8's checksum (which a release
    // build checks only under the flag code-cache.ts sets; without it, Node crashes on such a
    // cache), and the source compiled instead.
    const cachePath = `${file}.v8cache`;
    const good = readFileSync(cachePath);
    const start = good.indexOf(10) + 1;
    const damaged = (flip: (bad: Buffer) => void) => {
      const bad = Buffer.from(good);
      flip(bad);
      writeFileSync(cachePath, bad);
    };
    for (const flip of [
      (bad: Buffer) => {
        for (let i = start + 64; i < Math.min(bad.length, start + 464); i++) bad[i] = bad[i]! ^ 0x5a;
      },
      (bad: Buffer) => {
        bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
      },
      (bad: Buffer) => {
        const i = start + Math.floor((bad.length - start) / 2);
        bad[i] = bad[i]! ^ 0x10;
      },
    ]) {
      damaged(flip);
      expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('rejected');
      expect(JSON.parse(inNode(`console.log(JSON.stringify(m.requireWithCodeCache(${f})))`))).toMatchObject({ word: 'first' });
    }
    // A cache of the layout before (a checksum of its own after the stamp) is not used.
    writeFileSync(cachePath, Buffer.concat([Buffer.from(`${good.toString('latin1', 3, start - 1)} 1a2b3c4d\n`, 'latin1'), good.subarray(start)]));
    expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('stale');
    writeFileSync(cachePath, good);
    expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('accepted');
    // Rewritten to the same length: V8 alone would take the old cache (it checks lengths), the stamp does not.
    writeFileSync(file, src('other'));
    expect(inNode(`console.log(m.codeCacheState(${f}))`)).toBe('stale');
    expect(JSON.parse(inNode(`console.log(JSON.stringify(m.requireWithCodeCache(${f})))`))).toMatchObject({ word: 'other' });
  });
});
