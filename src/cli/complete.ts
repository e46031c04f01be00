// `trove __complete KIND [--repo DIR]`: the words the shell completion
// scripts offer, read straight from the repository's files (docs/format.md,
// "Layout"). It runs on every <Tab>, so it imports nothing but node:fs and
// node:path, and prints nothing but words: a missing or broken repository
// gives no words.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { io } from '../util/io.js';
import { isPackageRef } from '../system/packages/model.js';

/** Kinds `__complete` lists. */
type Kind = 'rev' | 'ref' | 'package' | 'generation' | 'profile' | 'remote';

async function names(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((d) => ({ name: d.name, dir: d.isDirectory() }));
  } catch {
    return [];
  }
}

/** Ref names under `dir`, `a/b/c` for refs/heads/a/b/c. */
async function refNames(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await names(dir)) {
    if (e.name.startsWith('.')) continue;
    if (e.dir) out.push(...(await refNames(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out;
}

async function generations(repo: string, profile: string): Promise<string[]> {
  return (await names(join(repo, 'profiles', profile)))
    .filter((e) => !e.dir && /^[0-9]+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
}

async function remotes(repo: string): Promise<string[]> {
  try {
    const config = JSON.parse(await readFile(join(repo, 'config'), 'utf8')) as { remotes?: Record<string, unknown> };
    return Object.keys(config.remotes ?? {});
  } catch {
    return [];
  }
}

/** The words of one kind in the repository at `repo`. */
export async function completions(kind: string, repo: string, profile = 'system'): Promise<string[]> {
  const heads = (): Promise<string[]> => refNames(join(repo, 'refs', 'heads'));
  switch (kind as Kind) {
    case 'ref':
      return heads();
    case 'rev': {
      const remote = await refNames(join(repo, 'refs', 'remotes'));
      return [...(await heads()), ...remote, ...(await generations(repo, profile))];
    }
    case 'package':
      return [...new Set((await heads()).filter(isPackageRef).map((r) => r.split('/')[1]!))].sort();
    case 'generation':
      return generations(repo, profile);
    case 'profile':
      return (await names(join(repo, 'profiles'))).filter((e) => e.dir).map((e) => e.name).sort();
    case 'remote':
      return (await remotes(repo)).sort();
    default:
      return [];
  }
}

/** Runs `__complete KIND [--repo DIR] [--profile P]` (the words after the script). */
export async function complete(args: string[]): Promise<void> {
  const { stdout, env } = io();
  let repo: string | undefined;
  let profile: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--repo') repo = args[++i];
    else if (a.startsWith('--repo=')) repo = a.slice('--repo='.length);
    else if (a === '--profile') profile = args[++i];
    else if (a !== '__complete') rest.push(a);
  }
  const words = await completions(rest[0] ?? '', resolve(repo ?? (env.TROVE_REPO || 'repo')), profile);
  if (words.length > 0) stdout.write(`${words.join('\n')}\n`);
}
