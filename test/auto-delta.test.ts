// A summary writes delta packs by itself for the tips that moved since the summary before, so a
// server that only commits and runs `trove summary` serves an update as one pack.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, startNginx } from './helpers/nginx.js';
import { trove, troveOk } from './helpers/cli.js';
import { removeTree, tmpdir } from './helpers/tmp.js';

interface SummaryJson {
  refs: Record<string, string>;
  deltas: { from: string | null; to: string; size: number }[];
  autoDeltas?: { written: { from: string; to: string }[]; removed: string[]; failed: unknown[]; skipped: { from: string; to: string; bytes: number }[] };
}

describe('delta packs written by the summary', () => {
  const base = tmpdir('trove-auto-delta');
  const src = join(base, 'src');
  const server = join(base, 'server');
  let nginx: Nginx;
  const head = (name: string) => readFileSync(join(server, 'refs', 'heads', name), 'utf8').trim();
  const packs = () => (existsSync(join(server, 'deltas')) ? readdirSync(join(server, 'deltas')).sort() : []);
  /** Commits `src` with file n changed to `text` on `ref`; the summary is rewritten by the commit. */
  const commit = async (ref: string, n: number, text: string, ...more: string[]): Promise<string> => {
    writeFileSync(join(src, 'd', `f${n}`), text);
    await troveOk(server, 'commit', src, '-r', ref, '-m', text, ...more);
    return head(ref);
  };

  beforeAll(async () => {
    mkdirSync(join(src, 'd'), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'd', `f${i}`), `file ${i}\n`.repeat(200));
    await troveOk(server, 'init');
    await troveOk(server, 'commit', src, '-r', 'main', '-m', 'one');
    await troveOk(server, 'summary');
    nginx = await startNginx(server);
  });
  afterAll(async () => {
    await nginx?.stop();
    removeTree(base);
  });

  it('a ref that moved gets a pack from its previous tip, which a client that pulled that tip takes in one request', async () => {
    const v1 = head('main');
    expect(packs()).toEqual([]);
    const client = join(base, 'client');
    await troveOk(client, 'init');
    await troveOk(client, 'remote', 'add', 'origin', nginx.url);
    await troveOk(client, 'pull', 'origin', 'main');

    const v2 = await commit('main', 1, 'two\n');
    expect(packs()).toEqual([`${v1}-${v2}`]);
    const summary = JSON.parse(await troveOk(server, 'summary', '--json')) as SummaryJson;
    expect(summary.deltas.map((d) => [d.from, d.to])).toEqual([[v1, v2]]);
    // Nothing moved since: nothing written.
    expect(summary.autoDeltas).toEqual({ written: [], removed: [], failed: [], skipped: [] });

    nginx.clearLog();
    const r = JSON.parse(await troveOk(client, 'pull', 'origin', 'main', '--json'));
    expect(r.deltas.used).toEqual([`${v1}-${v2}`]);
    expect(nginx.accessLog().map((l) => l.path)).toEqual(['/summary', `/deltas/${v1}-${v2}`]);
    await troveOk(client, 'fsck');
  });

  it('packs to a tip that moved on are removed, and the earlier tips get packs to the new one', async () => {
    const v2 = head('main');
    const before = packs();
    expect(before).toHaveLength(1);
    const v1 = before[0]!.slice(0, 64);
    const v3 = await commit('main', 2, 'three\n');
    expect(packs()).toEqual([`${v1}-${v3}`, `${v2}-${v3}`].sort());
    const v4 = await commit('main', 3, 'four\n');
    const v5 = await commit('main', 4, 'five\n');
    // At most three earlier tips: v1 has dropped out.
    expect(packs()).toEqual([`${v2}-${v5}`, `${v3}-${v5}`, `${v4}-${v5}`].sort());
    const rec = JSON.parse(readFileSync(join(server, 'deltas-auto.json'), 'utf8'));
    expect(rec['refs/main']).toEqual({ to: v5, from: [v4, v3, v2], packs: [`${v4}-${v5}`, `${v3}-${v5}`, `${v2}-${v5}`] });
  });

  it('a pack written by trove delta is never removed; package refs and --no-deltas get none, published generations do', async () => {
    const v5 = head('main');
    const [v4, v3, v2] = JSON.parse(readFileSync(join(server, 'deltas-auto.json'), 'utf8'))['refs/main'].from as string[];
    const v6 = await commit('main', 5, 'six\n', '--no-update-summary');
    await troveOk(server, 'delta', v5, 'main', '--no-update-summary');
    const summary = JSON.parse(await troveOk(server, 'summary', '--json')) as SummaryJson;
    // The pack from v5 was there already: not written again, and not the summary's to remove.
    expect(summary.autoDeltas?.written).toEqual([{ from: v4, to: v6 }, { from: v3, to: v6 }]);
    expect(summary.autoDeltas?.removed.sort()).toEqual([`${v2}-${v5}`, `${v3}-${v5}`, `${v4}-${v5}`].sort());
    const v7 = await commit('main', 6, 'seven\n');
    expect(packs().filter((p) => p.endsWith(`-${v6}`))).toEqual([`${v5}-${v6}`]);
    expect(packs().filter((p) => p.endsWith(`-${v7}`))).toEqual([`${v4}-${v7}`, `${v5}-${v7}`, `${v6}-${v7}`].sort());

    // A package ref that moves gets no pack of its own.
    const pkgSrc = join(base, 'pkg');
    mkdirSync(pkgSrc, { recursive: true });
    writeFileSync(join(pkgSrc, 'hello'), 'hello 1\n');
    await troveOk(server, 'pkg', 'add', pkgSrc, '--name', 'hello', '--arch', 'all', '--version', '1');
    const count = packs().length;
    writeFileSync(join(pkgSrc, 'hello'), 'hello 2\n');
    await troveOk(server, 'pkg', 'add', pkgSrc, '--name', 'hello', '--arch', 'all', '--version', '2');
    expect(packs()).toHaveLength(count);

    // The newest published generation is a tip: a pack from generation 1 to generation 2.
    await troveOk(server, 'gen', 'build', 'hello');
    await troveOk(server, 'gen', 'publish');
    expect(packs()).toHaveLength(count);
    writeFileSync(join(pkgSrc, 'hello'), 'hello 3\n');
    await troveOk(server, 'pkg', 'add', pkgSrc, '--name', 'hello', '--arch', 'all', '--version', '3');
    await troveOk(server, 'gen', 'build', 'hello');
    const gen = (n: number) => readFileSync(join(server, 'profiles', 'system', String(n)), 'utf8').trim();
    expect(packs()).toEqual(expect.arrayContaining([`${gen(1)}-${gen(2)}`]));
    expect(packs()).toHaveLength(count + 1);

    // --no-deltas: the summary lists refs that moved without writing packs.
    await commit('main', 7, 'eight\n', '--no-update-summary');
    const none = JSON.parse(await troveOk(server, 'summary', '--no-deltas', '--json')) as SummaryJson;
    expect(none.autoDeltas).toBeUndefined();
    expect(packs()).toHaveLength(count + 1);
  });

  it('a pack two tips share stays while one needs it; one that trove delta wrote over the summary\'s is never removed', async () => {
    const srv = join(base, 'server2');
    const tree = join(base, 'src2');
    mkdirSync(tree, { recursive: true });
    const tip = (name: string) => readFileSync(join(srv, 'refs', 'heads', name), 'utf8').trim();
    const packsOf = () => readdirSync(join(srv, 'deltas')).sort();
    const next = async (text: string) => {
      writeFileSync(join(tree, 'f'), text.repeat(300));
      await troveOk(srv, 'commit', tree, '-r', 'main', '-m', text);
      return tip('main');
    };
    await troveOk(srv, 'init');
    const a = await next('a\n');
    await troveOk(srv, 'refs', 'set', 'stable', 'main');
    await troveOk(srv, 'summary');
    const b = await next('b\n');
    expect(packsOf()).toEqual([`${a}-${b}`]);
    // stable follows main to B: the summary's pack A-B serves both.
    await troveOk(srv, 'refs', 'set', 'stable', 'main');
    await troveOk(srv, 'summary');
    const c = await next('c\n');
    expect(packsOf()).toEqual([`${a}-${b}`, `${a}-${c}`, `${b}-${c}`].sort());
    // trove delta writes B-C again itself: from then on it is never the summary's to remove.
    await troveOk(srv, 'delta', b, c, '--level', '9');
    const d = await next('d\n');
    expect(packsOf()).toEqual([`${a}-${b}`, `${b}-${c}`, `${a}-${d}`, `${b}-${d}`, `${c}-${d}`].sort());
    // Every pack the served summary lists is there.
    const listed = (JSON.parse(readFileSync(join(srv, 'summary'), 'utf8')) as SummaryJson).deltas.map((x) => `${x.from}-${x.to}`).sort();
    expect(listed).toEqual(packsOf());
  });

  it('a pack whose objects add up to more than the limit is not written: a note says so, and the summary lists none', async () => {
    const srv = join(base, 'server3');
    const tree = join(base, 'src3');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'f'), 'one\n'.repeat(300));
    await troveOk(srv, 'init');
    await troveOk(srv, 'commit', tree, '-r', 'main');
    await troveOk(srv, 'summary');
    const old = readFileSync(join(srv, 'refs', 'heads', 'main'), 'utf8').trim();
    // A tip moved to other content: its pack would hold the new file (1,500 bytes) and the trees.
    writeFileSync(join(tree, 'f'), 'two\n'.repeat(375));
    await troveOk(srv, 'commit', tree, '-r', 'main', '--no-update-summary');
    const now = readFileSync(join(srv, 'refs', 'heads', 'main'), 'utf8').trim();
    const r = await trove(['--repo', srv, 'summary', '--json'], { env: { TROVE_AUTO_PACK_MAX_BYTES: '1000' } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as SummaryJson;
    expect(out.autoDeltas?.written).toEqual([]);
    expect(out.autoDeltas?.skipped.map((x) => [x.from, x.to])).toEqual([[old, now]]);
    expect(out.autoDeltas!.skipped[0]!.bytes).toBeGreaterThan(1500);
    expect(r.stderr).toBe(
      `no delta pack ${old.slice(0, 12)} -> ${now.slice(0, 12)}: its objects add up to 0.0 MiB, more than a summary packs by itself; ` +
        `clients fetch them one by one (or run: trove delta ${old.slice(0, 12)} ${now.slice(0, 12)})\n`,
    );
    expect(out.deltas).toEqual([]);
    expect(existsSync(join(srv, 'deltas')) ? readdirSync(join(srv, 'deltas')) : []).toEqual([]);
    // Under the limit (the default), the next move gets its pack.
    writeFileSync(join(tree, 'f'), 'three\n'.repeat(300));
    await troveOk(srv, 'commit', tree, '-r', 'main');
    expect(readdirSync(join(srv, 'deltas')).length).toBeGreaterThan(0);
  });
});
