// A stress test, in the `slow` project (npm run test:fast leaves it out): `trove switch` killed with
// SIGKILL at random points, again and again. The switches are real processes (bin/trove.js): only a
// process can be killed at an arbitrary point; the checks and gc run in this process.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, watch, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activate, chooseLink } from '../src/system/activation/activate.js';
import { status } from '../src/system/activation/status.js';
import { type ActiveRecord, readActive } from '../src/system/profiles.js';
import { Repo } from '../src/repo/repo.js';
import { troveIn, troveOk, TROVE_BIN } from './helpers/cli.js';
import { repoWithGenerations } from './helpers/fixtures.js';

const KILLS = 30;

/**
 * `time`: a random delay over a whole switch; `tmp`: a random delay from the switch's first write
 * into `<repo>/tmp` (the checkout being made) to its end, so that kills land inside the activation.
 */
type Trigger = 'time' | 'tmp';

/**
 * Runs `trove switch ARGS` and SIGKILLs it `delayMs` after it starts (`time`) or after it first
 * writes into `<repo>/tmp` (`tmp`); `delayMs` null: not killed. Resolves the signal that ended
 * it, and how long it ran after the trigger.
 */
function switchKilled(repo: string, args: string[], trigger: Trigger, delayMs: number | null): Promise<{ signal: NodeJS.Signals | null; ranMs: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [TROVE_BIN, '--repo', repo, 'switch', ...args], { stdio: 'ignore' });
    let from = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let fired = trigger === 'time';
    const arm = () => {
      if (delayMs !== null) timer = setTimeout(() => p.kill('SIGKILL'), delayMs);
    };
    if (trigger === 'time') arm();
    const watcher =
      trigger === 'tmp'
        ? watch(join(repo, 'tmp'), () => {
            if (fired) return;
            fired = true;
            from = performance.now();
            arm();
          })
        : undefined;
    p.on('exit', (_code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      resolve({ signal, ranMs: performance.now() - from });
    });
  });
}

/** Six commits of 600 files on `main` (`value` holds the commit's number), so a checkout takes a while. */
async function bigHistory(dir: string, repo: string): Promise<string[]> {
  const src = join(dir, 'big');
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `${d} ${f}\n`);
  }
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    writeFileSync(join(src, 'value'), `${i}\n`);
    writeFileSync(join(src, 'd0', 'f0'), `version ${i}\n`);
    ids.push(JSON.parse(await troveOk(repo, 'commit', src, '--ref', 'main', '--json')).commit as string);
  }
  return ids;
}

describe('a switch killed with SIGKILL at random points', () => {
  it(`${KILLS} kills: always a valid record naming the link, a link that resolves to the old or the new commit, and gc keeps it`, async () => {
    const { dir, repo: r } = await repoWithGenerations(1);
    const repo = r.path;
    await r.close();
    // Commits that are no generation, on a ref: gc keeps their objects, but their checkouts only
    // while the record or the link names them.
    const h = await bigHistory(dir, repo);
    const link = join(dir, 'ro');
    const cli = troveIn(repo);
    expect((await cli('switch', h[0]!, '--link', link)).code).toBe(0);
    const value = (id: string) => `${h.indexOf(id)}\n`;

    // How long a switch (with a new checkout) runs here, from its start and from its first temp
    // file, so that kills spread over all of it.
    const whole = await switchKilled(repo, [h[1]!], 'time', null);
    const active = await switchKilled(repo, [h[2]!], 'tmp', null);
    expect([whole.signal, active.signal]).toEqual([null, null]);
    console.log(`a switch runs ${whole.ranMs.toFixed(0)} ms, ${active.ranMs.toFixed(0)} ms of it after its first temp file`);
    const spread = { time: whole.ranMs * 0.9, tmp: active.ranMs * 0.9 };

    let killed = 0;
    const outcomes: Record<string, number> = {};
    let before = (await readActive({ path: repo }, 'system'))!;
    // Until KILLS switches were killed (some finish before their kill comes), within a bound.
    for (let i = 0; killed < KILLS && i < 3 * KILLS; i++) {
      const trigger: Trigger = i % 2 === 0 ? 'time' : 'tmp';
      // A profile never activated before, every fifth time: its first switch killed.
      if (i % 5 === 4) {
        const profile = `fresh${i}`;
        const fresh = join(dir, `ro-${profile}`);
        if ((await switchKilled(repo, [h[i % 6]!, '--profile', profile, '--link', fresh], trigger, Math.random() * spread[trigger])).signal === 'SIGKILL') killed++;
        const rec = await readActive({ path: repo }, profile);
        // Never a link without a record; a record always names its link.
        if (lstatOk(fresh)) expect(rec?.link).toBe(fresh);
        if (rec) {
          expect(rec.link).toBe(fresh);
          expect(await chooseLink({ path: repo } as Repo, profile)).toBe(fresh);
        }
        continue;
      }
      const target = h.filter((id) => id !== before.commit)[i % 5]!;
      const was = readlinkSync(link);
      if ((await switchKilled(repo, [target], trigger, Math.random() * spread[trigger])).signal === 'SIGKILL') killed++;

      const rec = (await readActive({ path: repo }, 'system')) as ActiveRecord;
      expect(rec, `kill ${i} (${trigger}) left no record`).toBeDefined();
      expect(rec.link).toBe(link);
      expect([before.commit, target]).toContain(rec.commit);
      // The link points where it did or at the record's target (the new one), and it resolves.
      const at = readlinkSync(link);
      expect([was, rec.target]).toContain(at);
      const shows = readFileSync(join(link, 'value'), 'utf8');
      expect(shows).toBe(value(basename(at)));
      const outcome = `record ${rec.commit === target ? 'new' : 'old'}, link ${at === rec.target ? 'at it' : 'where it was'}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;

      // gc keeps what the link points at, whichever it is.
      const gc = await cli('gc');
      expect(gc.code, gc.stderr).toBe(0);
      expect(readlinkSync(link)).toBe(at);
      expect(readFileSync(join(link, 'value'), 'utf8')).toBe(shows);
      expect(existsSync(rec.target)).toBe(true);
      before = rec;
    }
    console.log(`${killed} switches killed; after the kills of the system profile: ${JSON.stringify(outcomes)}`);
    expect(killed).toBe(KILLS);

    // Afterwards a plain switch, without --link, goes to the recorded link and all is well.
    const r2 = await Repo.open(repo);
    expect(await chooseLink(r2, 'system')).toBe(link);
    await activate(r2, h[5]!, { link: await chooseLink(r2, 'system') });
    expect((await status(r2)).problem).toBeNull();
    expect(readFileSync(join(link, 'value'), 'utf8')).toBe('5\n');
    await r2.close();
  });
});

function lstatOk(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
