// A stress test (in the `slow` project: npm run test:fast leaves it out).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activate } from '../src/system/activation/activate.js';
import { repoWithGenerations } from './helpers/fixtures.js';

const READER = `
const fs = require('node:fs');
const [link, stop] = process.argv.slice(1);
let ok = 0, failed = 0;
const seen = {};
while (!fs.existsSync(stop)) {
  try {
    fs.statSync(link + '/etc');
    const v = fs.readFileSync(link + '/etc/id', 'utf8');
    seen[v] = (seen[v] || 0) + 1;
    ok++;
  } catch (err) {
    failed++;
  }
}
process.stdout.write(JSON.stringify({ ok, failed, seen }));
`;

describe('activation', () => {
  it('1,000 swaps under readers in another process: no lookup ever fails', async () => {
    const { dir, repo, commits } = await repoWithGenerations(2);
    const link = join(dir, 'ro');
    await activate(repo, commits[0]!, { link });
    await activate(repo, commits[1]!, { link });
    const stop = join(dir, 'stop');
    const reader = spawn(process.execPath, ['-e', READER, link, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const done = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 1000; i++) await activate(repo, commits[i % 2]!, { link });
    writeFileSync(stop, '');
    await done;
    const result = JSON.parse(out) as { ok: number; failed: number; seen: Record<string, number> };
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(1000);
    expect(Object.keys(result.seen).sort()).toEqual(['1', '2']);
    await repo.close();
  });
});
