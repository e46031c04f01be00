import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../src/util/errors.js';
import type { PackageInfo } from '../src/format/types.js';
import { type Candidate, PackageIndex, parseRequest, type Request, resolve } from '../src/system/packages/resolve.js';

interface Pkg {
  arch?: string;
  rev?: number;
  depends?: string[];
  pre?: string[];
  provides?: string[];
  ma?: string;
}

/** A candidate `name version`; its commit id is a hash of what it is. */
function pkg(name: string, version: string, p: Pkg = {}): Candidate {
  const info: PackageInfo = {
    name,
    arch: p.arch ?? 'amd64',
    version,
    revision: p.rev ?? 1,
    depends: p.depends ?? [],
    preDepends: p.pre ?? [],
    provides: p.provides ?? [],
    multiArch: p.ma ?? '',
  };
  const commit = createHash('sha256').update(JSON.stringify(info)).digest('hex');
  return { info, commit, source: 'local' };
}

const req = (...names: string[]): Request[] => names.map(parseRequest);

/** `name/arch=version` of each chosen package, `+` marking dependencies. */
function names(cands: Candidate[], asked: string[], opts: Parameters<typeof resolve>[2] = {}): string[] {
  return resolve(cands, req(...asked), opts).packages.map((r) => `${r.dependency ? '+' : ''}${r.candidate.info.name}/${r.candidate.info.arch}=${r.candidate.info.version}`);
}

function failure(fn: () => unknown): TroveError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TroveError) return e;
    throw e;
  }
  throw new Error('expected a TroveError');
}

describe('resolve', () => {
  it('computes the closure, marks dependencies and records the chain', () => {
    const c = [pkg('app', '1', { depends: ['libfoo (>= 1)'] }), pkg('libfoo', '1.2', { pre: ['libc6'] }), pkg('libc6', '2.36-9'), pkg('unrelated', '1')];
    const r = resolve(c, req('app'));
    expect(r.arch).toBe('amd64');
    expect(r.packages.map((p) => [p.candidate.info.name, p.dependency, p.neededBy])).toEqual([
      ['app', false, undefined],
      ['libc6', true, 'libfoo/amd64'],
      ['libfoo', true, 'app/amd64'],
    ]);
    expect(names(c, ['app'], { noDeps: true })).toEqual(['app/amd64=1']);
  });

  it('chooses the highest satisfying version, then the highest revision', () => {
    const c = [pkg('app', '1', { depends: ['lib (<< 3)'] }), pkg('lib', '1.0'), pkg('lib', '2.0', { rev: 1 }), pkg('lib', '2.0', { rev: 4 }), pkg('lib', '3.0'), pkg('lib', '2.0~rc1')];
    const r = resolve(c, req('app')).packages.find((p) => p.candidate.info.name === 'lib')!;
    expect([r.candidate.info.version, r.candidate.info.revision]).toEqual(['2.0', 4]);
    expect(names(c, ['lib'])).toEqual(['lib/amd64=3.0']);
  });

  it('honours each version operator as dpkg does', () => {
    const libs = ['1.0', '1.5', '2.0', '2.5', '3.0'].map((v) => pkg('lib', v));
    const pick = (dep: string) => names([pkg('app', '1', { depends: [dep] }), ...libs], ['app']).find((n) => n.startsWith('+lib'));
    expect(pick('lib (<< 2.0)')).toBe('+lib/amd64=1.5');
    expect(pick('lib (<= 2.0)')).toBe('+lib/amd64=2.0');
    expect(pick('lib (= 1.5)')).toBe('+lib/amd64=1.5');
    expect(pick('lib (>= 2.0)')).toBe('+lib/amd64=3.0');
    expect(pick('lib (>> 2.5)')).toBe('+lib/amd64=3.0');
    expect(failure(() => pick('lib (<< 1.0)')).message).toBe('app -> lib (<< 1.0): no version fits (versions of lib: 3.0, 2.5, 2.0, 1.5, 1.0)');
    const e = failure(() => pick('lib (>> 3.0)'));
    expect(e.code).toBe('E_NOT_FOUND');
    expect(e.message).toBe('app -> lib (>> 3.0): no version fits (versions of lib: 3.0, 2.5, 2.0, 1.5, 1.0)');
    // Epochs and tildes, the way dpkg orders them.
    const odd = [pkg('app', '1', { depends: ['tool (>= 1:0.1)'] }), pkg('tool', '9.9'), pkg('tool', '1:0.1~beta'), pkg('tool', '1:0.1')];
    expect(names(odd, ['app'])).toContain('+tool/amd64=1:0.1');
  });

  it('takes the first alternative that anything satisfies', () => {
    const c = [pkg('app', '1', { depends: ['missing | libb (>= 2) | libc'] }), pkg('libb', '1'), pkg('libc', '1'), pkg('libd', '1')];
    expect(names(c, ['app'])).toEqual(['app/amd64=1', '+libc/amd64=1']);
    c.push(pkg('libb', '2'));
    expect(names(c, ['app'])).toEqual(['app/amd64=1', '+libb/amd64=2']);
  });

  it('an alternative already chosen or in the base generation wins over the first', () => {
    const a = pkg('app', '1', { depends: ['liba | libb'] });
    const b = pkg('libb', '1');
    const c = [a, pkg('liba', '1'), b, pkg('other', '1', { depends: ['libb'] })];
    expect(names(c, ['other', 'app'])).toEqual(['app/amd64=1', '+libb/amd64=1', 'other/amd64=1']);
    expect(names(c, ['app'], { base: [b.commit] })).toEqual(['app/amd64=1', '+libb/amd64=1']);
  });

  it('prefers a base generation package that still satisfies over a newer one', () => {
    const old = pkg('lib', '1.0');
    const c = [pkg('app', '1', { depends: ['lib (>= 1.0)'] }), old, pkg('lib', '2.0')];
    expect(names(c, ['app'], { base: [old.commit] })).toEqual(['app/amd64=1', '+lib/amd64=1.0']);
    expect(names(c, ['app'])).toEqual(['app/amd64=1', '+lib/amd64=2.0']);
    // One that no longer satisfies gives way.
    const c2 = [pkg('app', '2', { depends: ['lib (>= 2.0)'] }), old, pkg('lib', '2.0')];
    expect(names(c2, ['app'], { base: [old.commit] })).toEqual(['app/amd64=2', '+lib/amd64=2.0']);
    // Asked-for packages are the newest, base or not.
    expect(names(c, ['lib'], { base: [old.commit] })).toEqual(['lib/amd64=2.0']);
  });

  it('Provides: unversioned satisfy only unversioned dependencies, versioned ones are compared', () => {
    const mta = pkg('postfix', '3.7', { provides: ['mail-transport-agent'] });
    const c = [pkg('mutt', '2', { depends: ['mail-transport-agent'] }), mta];
    expect(names(c, ['mutt'])).toEqual(['mutt/amd64=2', '+postfix/amd64=3.7']);
    const v = [pkg('app', '1', { depends: ['awk (>= 1.2)'] }), pkg('mawk', '1.3.4', { provides: ['awk'] })];
    expect(failure(() => names(v, ['app'])).message).toBe('app -> awk (>= 1.2): no version fits (provided by mawk (unversioned))');
    v.push(pkg('gawk', '5.2', { provides: ['awk (= 1.3)'] }));
    expect(names(v, ['app'])).toEqual(['app/amd64=1', '+gawk/amd64=5.2']);
    // A real package of the name comes before providers.
    const r = [pkg('app', '1', { depends: ['awk'] }), pkg('awk', '1.0'), pkg('mawk', '1.3.4', { provides: ['awk'] })];
    expect(names(r, ['app'])).toEqual(['app/amd64=1', '+awk/amd64=1.0']);
    // Several providers: the first by name.
    const several = [pkg('app', '1', { depends: ['awk'] }), pkg('mawk', '1', { provides: ['awk'] }), pkg('gawk', '1', { provides: ['awk'] })];
    expect(names(several, ['app'])).toEqual(['app/amd64=1', '+gawk/amd64=1']);
    // A virtual package asked for by name: its provider.
    expect(names(c, ['mail-transport-agent'])).toEqual(['postfix/amd64=3.7']);
  });

  it('architectures: same arch or all; Multi-Arch foreign across arches; :any needs Multi-Arch allowed; :native', () => {
    const app = (dep: string, arch = 'i386') => pkg('app', '1', { arch, depends: [dep] });
    const lib64 = pkg('lib', '1', { arch: 'amd64' });
    const lib32 = pkg('lib', '1', { arch: 'i386' });
    // Unqualified: the depending package's arch.
    expect(names([app('lib'), lib64, lib32], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+lib/i386=1']);
    expect(failure(() => names([app('lib'), lib64], ['app/i386'], { arch: 'amd64' })).message).toBe(
      'app -> lib: lib exists only for amd64, which cannot satisfy lib for i386',
    );
    // An arch-all package's dependencies are the native arch's.
    expect(names([app('lib', 'all'), lib64, lib32], ['app'], { arch: 'amd64' })).toEqual(['app/all=1', '+lib/amd64=1']);
    // An arch-all package counts as native (dpkg): a foreign-arch package gets it only when it is Multi-Arch: foreign.
    expect(failure(() => names([app('tzdata', 'i386'), pkg('tzdata', '2024a', { arch: 'all' })], ['app/i386'], { arch: 'amd64' })).code).toBe('E_NOT_FOUND');
    expect(names([app('tzdata', 'i386'), pkg('tzdata', '2024a', { arch: 'all', ma: 'foreign' })], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+tzdata/all=2024a']);
    // Multi-Arch: foreign satisfies an unqualified dependency from any arch.
    const tool = pkg('tool', '1', { arch: 'amd64', ma: 'foreign' });
    expect(names([app('tool'), tool], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+tool/amd64=1']);
    // :any: only Multi-Arch: allowed packages, of any arch (dpkg's deparchsatisfied).
    const py = pkg('python3', '3.11', { arch: 'amd64', ma: 'allowed' });
    expect(names([app('python3:any'), py], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+python3/amd64=3.11']);
    expect(failure(() => names([app('tool:any'), tool], ['app/i386'], { arch: 'amd64' })).code).toBe('E_NOT_FOUND');
    expect(failure(() => names([app('lib:any', 'amd64'), lib64], ['app'])).message).toMatch(/^app -> lib:any: lib exists only for amd64/);
    // :native: the native arch, whatever the depending package's.
    expect(names([app('lib:native'), lib64, lib32], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+lib/amd64=1']);
    // An explicit arch qualifier.
    expect(names([app('lib:amd64'), lib64, lib32], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+lib/amd64=1']);
    // Provides follow the provider's arch and Multi-Arch.
    const prov = pkg('impl', '1', { arch: 'amd64', provides: ['virt'], ma: 'foreign' });
    expect(names([app('virt'), prov], ['app/i386'], { arch: 'amd64' })).toEqual(['app/i386=1', '+impl/amd64=1']);
  });

  it('the default arch is the asked-for packages’ own', () => {
    const c = [pkg('app', '1', { arch: 'arm64', depends: ['lib'] }), pkg('lib', '1', { arch: 'arm64' }), pkg('lib', '1', { arch: 'amd64' })];
    const r = resolve(c, req('app'));
    expect(r.arch).toBe('arm64');
    expect(r.packages.map((p) => p.candidate.info.arch)).toEqual(['arm64', 'arm64']);
    expect(resolve(c, req('lib')).arch).toBe('amd64');
    expect(resolve(c, req('lib'), { hostArch: 'arm64' }).arch).toBe('arm64');
    // A foreign-arch package asked for beside a host one: the host stays native.
    expect(resolve(c, req('app/arm64', 'lib/amd64')).arch).toBe('amd64');
    expect(resolve(c, req('app/arm64', 'lib/amd64'), { hostArch: 'i386' }).arch).toBe('arm64');
    expect(failure(() => resolve(c, req('app'), { arch: 'amd64' })).message).toBe('app: no package for amd64 (app exists for arm64; ask for app/ARCH)');
  });

  it('allows cycles', () => {
    const c = [pkg('aa', '1', { depends: ['bb'] }), pkg('bb', '1', { depends: ['cc'] }), pkg('cc', '1', { depends: ['aa (>= 1)'] })];
    expect(names(c, ['aa'])).toEqual(['aa/amd64=1', '+bb/amd64=1', '+cc/amd64=1']);
    expect(names(c, ['cc'])).toEqual(['+aa/amd64=1', '+bb/amd64=1', 'cc/amd64=1']);
  });

  it('reports an unsatisfiable dependency with the chain that needs it, and nothing else', () => {
    const c = [
      pkg('gcc-12', '12.2.0-14', { depends: ['cpp-12 (= 12.2.0-14)', 'libc6 (>= 2.36)'] }),
      pkg('cpp-12', '12.2.0-14', { depends: ['libmpc3 (>= 1.1.0)', 'libc6'] }),
      pkg('libc6', '2.36-9'),
    ];
    const e = failure(() => resolve(c, req('gcc-12')));
    expect(e.code).toBe('E_NOT_FOUND');
    expect(e.message).toBe('gcc-12 -> cpp-12 -> libmpc3 (>= 1.1.0): no package provides libmpc3');
    c.push(pkg('libmpc3', '1.0.0-1'), pkg('libmpc3', '1.0.1-1'));
    expect(failure(() => resolve(c, req('gcc-12'))).message).toBe('gcc-12 -> cpp-12 -> libmpc3 (>= 1.1.0): no version fits (versions of libmpc3: 1.0.1-1, 1.0.0-1)');
    expect(failure(() => resolve(c, req('nosuch'))).message).toBe('nosuch: no package provides nosuch');
    expect(failure(() => resolve(c, req('libc6=2.37'))).message).toBe('libc6=2.37: no such version (there is 2.36-9 revision 1)');
  });

  it('chooses one version that every dependency allows', () => {
    const c = [pkg('a1', '1', { depends: ['lib (>= 1)'] }), pkg('b1', '1', { depends: ['lib (<< 3)'] }), ...['1', '2', '3'].map((v) => pkg('lib', v))];
    expect(names(c, ['a1', 'b1'])).toEqual(['a1/amd64=1', 'b1/amd64=1', '+lib/amd64=2']);
    const bad = [pkg('a1', '1', { depends: ['lib (>= 3)'] }), pkg('b1', '1', { depends: ['lib (<< 3)'] }), ...['1', '3'].map((v) => pkg('lib', v))];
    expect(failure(() => resolve(bad, req('a1', 'b1'))).message).toMatch(/^(a1|b1) -> lib \((>=|<<) 3\): no version fits \(versions of lib: 3, 1\); other packages need lib/);
  });

  it('NAME=VERSION, NAME/ARCH and pinned commits', () => {
    const old = pkg('lib', '1.0');
    const c = [old, pkg('lib', '2.0'), pkg('lib', '2.0', { arch: 'i386' })];
    expect(names(c, ['lib=1.0'])).toEqual(['lib/amd64=1.0']);
    expect(names(c, ['lib/i386'])).toEqual(['lib/i386=2.0']);
    expect(resolve(c, [{ name: 'lib', commit: old.commit }]).packages[0]!.candidate.commit).toBe(old.commit);
    expect(() => parseRequest('Bad Name')).toThrow(TroveError);
    expect(failure(() => resolve(c, req('lib', 'lib/amd64'))).code).toBe('E_USAGE');
  });

  it('is deterministic whatever the input order', () => {
    const c = [pkg('app', '1', { depends: ['x1 | y1', 'z1'] }), pkg('x1', '1', { depends: ['z1'] }), pkg('y1', '1'), pkg('z1', '1'), pkg('z1', '2')];
    const a = resolve(c, req('app')).packages.map((p) => p.candidate.commit);
    const b = resolve([...c].reverse(), req('app')).packages.map((p) => p.candidate.commit);
    expect(b).toEqual(a);
  });

  it('an index built once serves many resolutions', () => {
    const n = 2000;
    const c: Candidate[] = [];
    for (let i = 0; i < n; i++) c.push(pkg(`p${i}`, `1.${i}`, { depends: i + 1 < n ? [`p${i + 1} (>= 1.${i + 1})`] : [] }));
    const index = new PackageIndex(c);
    expect(resolve(index, req('p0')).packages.length).toBe(n);
    expect(resolve(index, req(`p${n - 2}`)).packages.length).toBe(2);
  });
});
