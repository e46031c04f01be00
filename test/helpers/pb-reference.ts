// The tree and commit codec as protobufjs does it, from the code protobufjs-cli generates out of
// trove.proto: the oracle test/wire.test.ts holds src/format's own writer and reader to.
import { trove } from '../../src/format/generated/trove.js';
import { comparePackages, type Commit, type Tree, type TreeEntry } from '../../src/format/index.js';
import { compareNames } from '../../src/format/names.js';
import { bytesToId, idToBytes } from '../../src/util/hash.js';

const pb = trove.v1;
const KIND = { file: 1, dir: 2, symlink: 3 } as const;

/** Only fields that differ from their proto3 default, as a canonical encoding needs. */
function setIf<T extends object>(out: T, key: keyof T & string, value: unknown): void {
  if (value === undefined || value === null || value === 0 || value === '') return;
  if (value instanceof Uint8Array && value.length === 0) return;
  if (Array.isArray(value) && value.length === 0) return;
  (out as Record<string, unknown>)[key] = value;
}

function xattrs(list: { name: string; value: Uint8Array }[]): trove.v1.IXattr[] {
  return [...list]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((x) => {
      const o: trove.v1.IXattr = {};
      setIf(o, 'name', x.name);
      setIf(o, 'value', x.value);
      return o;
    });
}

function entry(e: TreeEntry): trove.v1.ITreeEntry {
  const o: trove.v1.ITreeEntry = {};
  setIf(o, 'name', e.name);
  setIf(o, 'kind', KIND[e.kind]);
  if (e.kind === 'symlink') setIf(o, 'target', e.target);
  else setIf(o, 'id', idToBytes(e.id!));
  setIf(o, 'mode', e.mode);
  setIf(o, 'uid', e.uid);
  setIf(o, 'gid', e.gid);
  setIf(o, 'size', e.size);
  setIf(o, 'xattrs', xattrs(e.xattrs));
  return o;
}

export function referenceEncodeTree(tree: Tree): Uint8Array {
  const msg: trove.v1.ITree = {};
  setIf(msg, 'entries', [...tree.entries].sort((a, b) => compareNames(a.name, b.name)).map(entry));
  return pb.Tree.encode(msg).finish();
}

export function referenceEncodeCommit(c: Commit): Uint8Array {
  const msg: trove.v1.ICommit = {};
  setIf(msg, 'tree', idToBytes(c.tree));
  const root: trove.v1.IDirMeta = {};
  setIf(root, 'mode', c.root.mode);
  setIf(root, 'uid', c.root.uid);
  setIf(root, 'gid', c.root.gid);
  setIf(root, 'xattrs', xattrs(c.root.xattrs));
  if (Object.keys(root).length > 0) msg.root = root;
  setIf(msg, 'parents', c.parents.map(idToBytes));
  setIf(msg, 'subject', c.subject);
  setIf(msg, 'body', c.body);
  setIf(msg, 'timestamp', c.timestamp);
  setIf(
    msg,
    'metadata',
    [...c.metadata]
      .sort((a, b) => compareNames(a.key, b.key))
      .map((m) => {
        const o: trove.v1.IKeyValue = {};
        setIf(o, 'key', m.key);
        setIf(o, 'value', m.value);
        return o;
      }),
  );
  if (c.package) {
    const p = c.package;
    const o: trove.v1.IPackageInfo = {};
    setIf(o, 'name', p.name);
    setIf(o, 'arch', p.arch);
    setIf(o, 'version', p.version);
    setIf(o, 'revision', p.revision);
    setIf(o, 'depends', [...p.depends].sort(compareNames));
    setIf(o, 'preDepends', [...p.preDepends].sort(compareNames));
    setIf(o, 'provides', [...p.provides].sort(compareNames));
    setIf(o, 'multiArch', p.multiArch);
    msg.package = o;
  }
  if (c.generation) {
    const g = c.generation;
    const o: trove.v1.IGenerationInfo = {};
    setIf(o, 'profile', g.profile);
    setIf(
      o,
      'packages',
      [...g.packages].sort(comparePackages).map((p) => {
        const q: trove.v1.IGenerationPackage = {};
        setIf(q, 'name', p.name);
        setIf(q, 'arch', p.arch);
        setIf(q, 'version', p.version);
        setIf(q, 'revision', p.revision);
        setIf(q, 'commit', idToBytes(p.commit));
        setIf(q, 'priority', p.priority);
        if (p.dependency === true) q.dependency = true;
        return q;
      }),
    );
    setIf(
      o,
      'conflicts',
      [...g.conflicts]
        .sort((a, b) => compareNames(a.path, b.path))
        .map((x) => {
          const q: trove.v1.IConflict = {};
          setIf(q, 'path', x.path);
          setIf(q, 'winner', x.winner);
          setIf(q, 'losers', [...x.losers].sort(compareNames));
          return q;
        }),
    );
    msg.generation = o;
  }
  return pb.Commit.encode(msg).finish();
}

const id = (b: Uint8Array | null | undefined): string => {
  if (b?.length !== 32) throw new Error('id must be 32 bytes');
  return bytesToId(b);
};

/** protobufjs's decode, then refused unless protobufjs encodes the result back to the same bytes. */
export function referenceDecodeCommit(bytes: Uint8Array): Commit {
  const m = pb.Commit.decode(bytes);
  const c: Commit = {
    tree: id(m.tree),
    root: {
      mode: m.root?.mode ?? 0,
      uid: m.root?.uid ?? 0,
      gid: m.root?.gid ?? 0,
      xattrs: (m.root?.xattrs ?? []).map((x) => ({ name: x.name ?? '', value: new Uint8Array(x.value ?? []) })),
    },
    parents: (m.parents ?? []).map(id),
    subject: m.subject ?? '',
    body: m.body ?? '',
    timestamp: Number(m.timestamp ?? 0),
    metadata: (m.metadata ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ?? '' })),
  };
  if (m.package) {
    const p = m.package;
    c.package = {
      name: p.name ?? '',
      arch: p.arch ?? '',
      version: p.version ?? '',
      revision: Number(p.revision ?? 0),
      depends: p.depends ?? [],
      preDepends: p.preDepends ?? [],
      provides: p.provides ?? [],
      multiArch: p.multiArch ?? '',
    };
  }
  if (m.generation) {
    const g = m.generation;
    c.generation = {
      profile: g.profile ?? '',
      packages: (g.packages ?? []).map((p) => ({
        name: p.name ?? '',
        arch: p.arch ?? '',
        version: p.version ?? '',
        revision: Number(p.revision ?? 0),
        commit: id(p.commit),
        priority: p.priority ?? 0,
        ...(p.dependency ? { dependency: true } : {}),
      })),
      conflicts: (g.conflicts ?? []).map((x) => ({ path: x.path ?? '', winner: x.winner ?? '', losers: x.losers ?? [] })),
    };
  }
  if (!Buffer.from(referenceEncodeCommit(c)).equals(Buffer.from(bytes))) throw new Error('not canonical');
  return c;
}
