import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trove } from './helpers/cli.js';
import { ROOT, tmpdir } from './helpers/tmp.js';

const FORMAT = readFileSync(join(ROOT, 'docs', 'format.md'), 'utf8');
const PROTO = readFileSync(join(ROOT, 'src', 'format', 'trove.proto'), 'utf8');

interface Field {
  name: string;
  number: number;
  type: string;
  repeated: boolean;
}

/** The messages of trove.proto and their fields. */
function protoMessages(): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  for (const m of PROTO.matchAll(/^message (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const fields = [...m[2]!.matchAll(/^\s*(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+);/gm)].map((f) => ({
      repeated: f[1] !== undefined,
      type: f[2]!,
      name: f[3]!,
      number: Number(f[4]),
    }));
    out.set(m[1]!, fields);
  }
  return out;
}

/** The table rows of format.md's documentation of `message`: from its heading or lead-in line to the next blank line after the table. */
function tableOf(message: string): string[] {
  const lines = FORMAT.split('\n');
  const start = lines.findIndex((l) => l === `### ${message}` || l.startsWith(`\`${message}\``));
  if (start < 0) return [];
  const rows: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('|')) rows.push(l);
    else if (rows.length > 0) break;
    else if (l.startsWith('#') || /^`[A-Z]\w*`/.test(l)) break;
  }
  return rows;
}

/** How format.md writes a proto type in its type column. */
function docType(f: Field): RegExp {
  const scalar = /^(string|bytes|bool|uint32|uint64|int32|int64)$/.test(f.type);
  const base = scalar ? (f.type === 'bytes' ? 'bytes(?:\\(32\\))?' : f.type) : f.type === 'EntryKind' ? 'enum' : `\`${f.type}\``;
  return new RegExp(`^${f.repeated ? 'repeated ' : ''}${base}$`);
}

describe('docs/format.md documents trove.proto', () => {
  const messages = protoMessages();

  it('finds the messages it checks', () => {
    expect([...messages.keys()].sort()).toEqual(
      ['Commit', 'Conflict', 'DirMeta', 'GenerationInfo', 'GenerationPackage', 'KeyValue', 'PackageInfo', 'Tree', 'TreeEntry', 'Xattr'].sort(),
    );
    expect(messages.get('GenerationPackage')).toContainEqual({ name: 'priority', number: 6, type: 'int32', repeated: false });
  });

  // Tree's one field is described in prose above the table of its entries.
  const documented = [...protoMessages()].filter(([name]) => name !== 'Tree').map(([name, fields]) => [name === 'TreeEntry' ? 'Tree' : name, fields] as const);

  it.each(documented)('%s: every field with its number and type', (message, fields) => {
    const rows = tableOf(message);
    expect(rows.length, `no table for ${message}`).toBeGreaterThan(2);
    for (const f of fields) {
      const row = rows.find((r) => r.split('|')[1]!.includes(`\`${f.name}\` (${f.number})`));
      expect(row, `${message}.${f.name} (${f.number})`).toBeDefined();
      expect(row!.split('|')[2]!.trim(), `${message}.${f.name}`).toMatch(docType(f));
    }
  });

  it('the Tree field and the EntryKind values', () => {
    expect(FORMAT).toContain('`Tree.entries`');
    for (const m of PROTO.matchAll(/^\s*(ENTRY_KIND_(?!UNSPECIFIED)\w+) = (\d+);/gm)) expect(FORMAT).toContain(`\`${m[1]}\` (${m[2]})`);
  });

  it('says which all-default submessages are written', () => {
    expect(FORMAT).toMatch(/`root` is omitted when it is all defaults/);
    expect(FORMAT).toMatch(/`package` and `generation`\s+are written whenever/);
  });
});

describe('docs/format.md lists what a repository holds', () => {
  let repo: string;
  beforeAll(async () => {
    const root = tmpdir('trove-format-docs');
    repo = join(root, 'repo');
    const src = join(root, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'plain'), `plain ${'text '.repeat(100)}\n`);
    writeFileSync(join(src, 'tool'), '#!/bin/sh\necho tool\n');
    chmodSync(join(src, 'tool'), 0o755);
    writeFileSync(join(src, 'private'), 'private\n');
    chmodSync(join(src, 'private'), 0o600);
    // Private too, and of a mode no object file has: the hard-link checkout makes a variant.
    writeFileSync(join(src, 'group'), 'group\n');
    chmodSync(join(src, 'group'), 0o640);
    writeFileSync(join(src, 'random'), randomBytes(4096)); // does not compress: a .nogz mark
    const gone = join(root, 'gone');
    mkdirSync(gone);
    writeFileSync(join(gone, 'garbage'), `collected ${Math.random()}\n`);
    const key = join(root, 'key');
    for (const args of [
      ['init'],
      ['commit', gone, '-r', 'gone'],
      ['refs', 'delete', 'gone'],
      ['gc'], // deletes something
      ['commit', src, '-r', 'main'],
      ['checkout', '--hardlink', 'main', join(root, 'co')],
      ['keygen', '--out', key],
      ['sign', 'main', '--key', key],
      ['delta', '--from-empty', 'main'],
      ['summary', '--gzip-objects', '--key', key],
    ]) {
      const r = await trove([...args, '--repo', repo]);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  });

  it('every top-level entry trove made is in the layout block', () => {
    const block = /## Repository layout\n\n```\n([\s\S]*?)```/.exec(FORMAT)![1]!;
    const documented = new Set([...block.matchAll(/^ {2}([a-z][\w.-]*)/gm)].map((m) => m[1]!));
    const made = readdirSync(repo);
    for (const name of ['locks', 'signatures', 'deltas', 'summary', 'summary.sig', 'variants']) expect(made).toContain(name);
    expect(made.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('object directories hold objects, .gz and .nogz siblings, and nothing else', () => {
    const kinds = new Set<string>();
    for (const shard of readdirSync(join(repo, 'objects'))) {
      for (const name of readdirSync(join(repo, 'objects', shard))) kinds.add(name.replace(/^[0-9a-f]{62}/, '<62 hex>'));
    }
    expect([...kinds].sort()).toEqual(['<62 hex>', '<62 hex>.gz', '<62 hex>.nogz']);
    for (const k of kinds) expect(FORMAT).toContain(`objects/ab/${k}`);
  });

  it('object files are 0644, or 0755 for a blob first imported as an executable; 0600 for private content', async () => {
    const ls = JSON.parse((await trove(['ls', '--json', 'main', '--repo', repo])).stdout) as { path: string; id: string }[];
    const modeOf = (id: string) => statSync(join(repo, 'objects', id.slice(0, 2), id.slice(2))).mode & 0o7777;
    const byPath = new Map(ls.map((e) => [e.path, modeOf(e.id)]));
    expect(Object.fromEntries(byPath)).toEqual({ group: 0o600, plain: 0o644, private: 0o600, random: 0o644, tool: 0o755 });
    const modes = new Set<number>();
    for (const shard of readdirSync(join(repo, 'objects'))) {
      for (const name of readdirSync(join(repo, 'objects', shard))) if (/^[0-9a-f]{62}$/.test(name)) modes.add(modeOf(shard + name));
    }
    expect([...modes].sort()).toEqual([0o600, 0o644, 0o755]);
    expect(FORMAT).toMatch(/A blob's object file is `0644`, or\s+`0755` for a blob whose first importer/);
    expect(FORMAT).toMatch(/`0600` \(`0700`\) when it is private/);
  });
});
