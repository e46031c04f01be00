import type { IndexDb } from '../../refs/index-db.js';
import type { CachedEntry, DirRecord, StatCache } from './stat-cache.js';

const PREFIX = 'stat:';
const KINDS = ['file', 'dir', 'symlink'] as const;

/** kind index, size, mtimeMs, ctimeMs, ino, id or target, xattrs as [name, base64][] */
type Tuple = [number, number, number, number, number, string, [string, string][]?];
type Stored = [epoch: number, tree: string, files: Record<string, Tuple>];

/**
 * The stat cache in the LevelDB index: key `stat:<absolute dir>`, value the
 * gc epoch it was recorded in, the dir's tree id and its entries as tuples.
 */
export class IndexStatCache implements StatCache {
  private readonly loaded = new Map<string, { record: DirRecord; trusted: boolean }>();
  private readonly pending: [string, Stored][] = [];

  constructor(
    private readonly db: IndexDb,
    private readonly epoch: number,
  ) {}

  async load(root: string): Promise<void> {
    // Directories below `root`: `/a/b` for root `/a`, `/etc` for root `/` itself.
    const below = root.endsWith('/') ? root : `${root}/`;
    for await (const [key, [epoch, tree, files]] of this.db.entries<Stored>(PREFIX + root)) {
      const dir = key.slice(PREFIX.length);
      if (dir !== root && !dir.startsWith(below)) continue;
      const entries = new Map<string, CachedEntry>();
      for (const [name, t] of Object.entries(files)) {
        const kind = KINDS[t[0]] ?? 'file';
        entries.set(name, {
          kind,
          size: t[1],
          mtimeMs: t[2],
          ctimeMs: t[3],
          ino: t[4],
          ...(kind === 'symlink' ? { target: t[5] } : { id: t[5] }),
          xattrs: (t[6] ?? []).map(([n, v]) => ({ name: n, value: Buffer.from(v, 'base64') })),
        });
      }
      this.loaded.set(dir, { record: { tree, entries }, trusted: epoch === this.epoch });
    }
  }

  lookup(dir: string) {
    return this.loaded.get(dir);
  }

  record(dir: string, record: DirRecord): void {
    const files: Record<string, Tuple> = {};
    for (const [name, e] of record.entries) {
      const t: Tuple = [KINDS.indexOf(e.kind), e.size, e.mtimeMs, e.ctimeMs, e.ino, (e.kind === 'symlink' ? e.target : e.id) ?? ''];
      if (e.xattrs.length > 0) t.push(e.xattrs.map((x) => [x.name, Buffer.from(x.value).toString('base64')]));
      files[name] = t;
    }
    this.pending.push([PREFIX + dir, [this.epoch, record.tree, files]]);
  }

  /** Writes the records of this import. */
  flush(): Promise<void> {
    return this.db.putMany(this.pending);
  }
}
