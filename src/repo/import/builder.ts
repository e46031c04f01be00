import { unsafeArchive } from '../../util/errors.js';
import { treePathProblem } from '../../util/limits.js';
import { compareNames, nameProblem } from '../../format/names.js';
import { encodeTree } from '../../format/codec.js';
import { DEFAULT_DIR_META, type DirMeta, type TreeEntry, type Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore } from '../../store/types.js';
import { writeTree } from '../objects.js';

export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  xattrs: Xattr[];
}

type Node =
  | { kind: 'dir'; meta: DirMeta; children: Map<string, Node> }
  | { kind: 'file'; meta: Meta; id: ObjectId; size: number }
  | { kind: 'symlink'; meta: Meta; target: string };

/**
 * Splits an archive member path into validated components. Leading `./` and
 * repeated slashes are tolerated; absolute paths, `..` and bad names are
 * refused. An empty result means the archive root.
 */
export function splitMemberPath(path: string): string[] {
  if (path.startsWith('/')) throw unsafeArchive(`member ${JSON.stringify(path)} has an absolute path`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) {
    if (p === '..') throw unsafeArchive(`member ${JSON.stringify(path)} escapes the archive with '..'`);
    const problem = nameProblem(p);
    if (problem) throw unsafeArchive(`member ${JSON.stringify(path)} has an invalid name: ${problem}`);
  }
  const tooBig = treePathProblem(parts.length, Buffer.byteLength(parts.join('/')));
  if (tooBig) throw unsafeArchive(`member ${JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}...` : path)} is ${tooBig}`);
  return parts;
}

/**
 * Builds a tree from archive members in any order, entirely in memory (names
 * and ids only, never contents). Nothing touches the filesystem, so a member
 * can never write through a symlink; one that tries is refused.
 */
export class TreeBuilder {
  private readonly root: Node & { kind: 'dir' } = { kind: 'dir', meta: { ...DEFAULT_DIR_META }, children: new Map() };

  private parentOf(path: string, parts: string[]): Map<string, Node> {
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      let child = dir.children.get(name);
      if (!child) {
        child = { kind: 'dir', meta: { ...DEFAULT_DIR_META, xattrs: [] }, children: new Map() };
        dir.children.set(name, child);
      }
      if (child.kind === 'symlink') {
        throw unsafeArchive(`member ${JSON.stringify(path)} would be written through the symlink ${parts.slice(0, i + 1).join('/')}`);
      }
      if (child.kind !== 'dir') throw unsafeArchive(`member ${JSON.stringify(path)} needs ${parts.slice(0, i + 1).join('/')} to be a directory, but it is a file`);
      dir = child;
    }
    return dir.children;
  }

  private set(path: string, node: Node): void {
    const parts = splitMemberPath(path);
    if (parts.length === 0) {
      if (node.kind !== 'dir') throw unsafeArchive(`member ${JSON.stringify(path)} replaces the root with a non-directory`);
      this.root.meta = node.meta;
      return;
    }
    const children = this.parentOf(path, parts);
    const name = parts[parts.length - 1]!;
    const existing = children.get(name);
    if (existing?.kind === 'dir') {
      if (node.kind !== 'dir') throw unsafeArchive(`member ${JSON.stringify(path)} replaces a directory with a ${node.kind}`);
      existing.meta = node.meta;
      return;
    }
    children.set(name, node);
  }

  addDir(path: string, meta: Meta): void {
    this.set(path, { kind: 'dir', meta, children: new Map() });
  }

  addFile(path: string, meta: Meta, id: ObjectId, size: number): void {
    this.set(path, { kind: 'file', meta, id, size });
  }

  addSymlink(path: string, meta: Meta, target: string): void {
    if (target.length === 0) throw unsafeArchive(`symlink ${JSON.stringify(path)} has an empty target`);
    if (target.includes('\0')) throw unsafeArchive(`symlink ${JSON.stringify(path)} target contains NUL`);
    this.set(path, { kind: 'symlink', meta, target });
  }

  /**
   * A hard link: the new path shares the content, and (as the inode GNU tar
   * and dpkg link to) the mode, owner and xattrs, of an earlier regular file
   * member. A link whose own header claims another mode or owner is refused:
   * `tar -tv` would list it with one, extraction give it the other.
   */
  addHardlink(path: string, meta: Meta, targetPath: string): void {
    const target = this.lookup(targetPath);
    if (!target || target.kind !== 'file') {
      throw unsafeArchive(`hard link ${JSON.stringify(path)} points at ${JSON.stringify(targetPath)}, which is not an earlier regular file in the archive`);
    }
    const t = target.meta;
    if ((meta.mode & 0o7777) !== (t.mode & 0o7777) || meta.uid !== t.uid || meta.gid !== t.gid) {
      const show = (m: Meta) => `${(m.mode & 0o7777).toString(8).padStart(4, '0')} ${m.uid}:${m.gid}`;
      throw unsafeArchive(`hard link ${JSON.stringify(path)} claims ${show(meta)}, but ${JSON.stringify(targetPath)}, the file it shares, is ${show(t)}`);
    }
    this.addFile(path, t, target.id, target.size);
  }

  private lookup(path: string): Node | undefined {
    let node: Node = this.root;
    for (const p of splitMemberPath(path)) {
      if (node.kind !== 'dir') return undefined;
      const next = node.children.get(p);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * Writes every tree, children first; returns the root tree id and root
   * metadata, and the blobs of the files other users may read (the file
   * readable by others, every directory above it searchable by others).
   */
  async write(store: Pick<ObjectStore, 'put'> & Partial<Pick<ObjectStore, 'putSync'>>): Promise<{ tree: ObjectId; root: DirMeta; publicFiles: Set<ObjectId> }> {
    const publicFiles = new Set<ObjectId>();
    const writeDir = async (dir: Node & { kind: 'dir' }, open: boolean): Promise<ObjectId> => {
      const entries: TreeEntry[] = [];
      const names = [...dir.children.keys()].sort(compareNames);
      for (const name of names) {
        const n = dir.children.get(name)!;
        const base = { name, mode: n.meta.mode & 0o7777, uid: n.meta.uid, gid: n.meta.gid, xattrs: n.meta.xattrs };
        if (n.kind === 'dir') entries.push({ ...base, kind: 'dir', id: await writeDir(n, open && (base.mode & 0o001) !== 0), size: 0 });
        else if (n.kind === 'file') {
          if (open && (base.mode & 0o004) !== 0) publicFiles.add(n.id);
          entries.push({ ...base, kind: 'file', id: n.id, size: n.size });
        }
        else entries.push({ ...base, kind: 'symlink', target: n.target, size: Buffer.byteLength(n.target) });
      }
      // Blocking where the store can: a package's hundreds of trees are written one after another.
      return store.putSync ? store.putSync(encodeTree({ entries })).id : writeTree(store, { entries });
    };
    const tree = await writeDir(this.root, (this.root.meta.mode & 0o001) !== 0);
    return { tree, root: { ...this.root.meta, mode: this.root.meta.mode & 0o7777 }, publicFiles };
  }
}
