import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { unsafeArchive, unsupported } from '../../util/errors.js';
import type { DirMeta, Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore, PublishStore, PutResult } from '../../store/types.js';
import { type Meta, TreeBuilder } from './builder.js';
import { byteCap, decompressor, sniffCompression } from '../../util/compression.js';
import { maxImportBytes } from '../../util/limits.js';
import { type ImportReport, newReport } from './report.js';
import { type OnProgress, progressOf } from '../../util/progress.js';

const XATTR_PREFIX = 'SCHILY.xattr.';

/** PAX keywords that change what is stored, each applied as GNU tar applies it. */
const HONOURED = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname']);
/** PAX keywords that change nothing trove stores (times, comments, star's inode bookkeeping, device numbers of skipped nodes). */
const IGNORED = new Set(['mtime', 'atime', 'ctime', 'comment', 'charset', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'SCHILY.devmajor', 'SCHILY.devminor']);
/** In a global header these would give every later member one name or one size: refused. */
const LOCAL_ONLY = new Set(['path', 'linkpath', 'size']);
const UTF8_CHARSET = 'ISO-IR 10646 2000 UTF-8';
/** The largest id GNU tar accepts as an owner ((uid_t)-1 is "no change"). */
const MAX_ID = 0xfffffffe;

/**
 * Every record of a PAX header body, values as raw bytes. A record is
 * `<len> <key>=<value>\n`, `len` counting bytes; GNU tar writes binary
 * values (security.capability, ACLs) verbatim. A later record with the same
 * key wins, as in GNU tar.
 */
export function paxRecords(body: Uint8Array): Map<string, Buffer> {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    const lenText = space < 0 ? '' : buf.toString('latin1', pos, space);
    const len = /^[1-9]\d{0,9}$/.test(lenText) ? Number(lenText) : NaN;
    const end = pos + len;
    if (!(end > space + 1 && end <= buf.length && buf[end - 1] === 0x0a)) {
      if (buf.subarray(pos).every((b) => b === 0)) break; // zero padding after the last record
      throw unsafeArchive(`bad PAX record at byte ${pos} of an extended header`);
    }
    const eq = buf.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw unsafeArchive(`PAX record at byte ${pos} has no key=value`);
    const key = buf.toString('utf8', space + 1, eq);
    if (key.length === 0) throw unsafeArchive(`PAX record at byte ${pos} has an empty key`);
    out.set(key, Buffer.from(buf.subarray(eq + 1, end - 1)));
    pos = end;
  }
  return out;
}

/** The `SCHILY.xattr.*` records of a PAX header body with their values as raw bytes. */
export function rawXattrs(body: Uint8Array): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of paxRecords(body)) if (k.startsWith(XATTR_PREFIX)) out.set(k, v);
  return out;
}

/**
 * Refuses a PAX header with a keyword trove cannot honour exactly: sparse
 * files (GNU.sparse.*), multi-volume parts, ACLs, SELinux contexts, file
 * flags, libarchive's xattrs, non-UTF-8 names (hdrcharset=BINARY), any
 * unknown keyword, and malformed numbers. What is left is applied as GNU tar
 * applies it, so the stored tree is the one `tar -tv` lists.
 */
function checkPax(records: Map<string, Buffer>, global: boolean): void {
  const where = global ? 'global PAX header' : 'PAX header';
  for (const [key, value] of records) {
    const text = value.toString('utf8');
    if (key.startsWith(XATTR_PREFIX)) {
      if (key.length === XATTR_PREFIX.length) throw unsafeArchive(`${where} has an xattr record without a name`);
      continue;
    }
    if (key === 'hdrcharset') {
      if (text !== UTF8_CHARSET && text !== '') throw unsafeArchive(`${where} declares hdrcharset ${JSON.stringify(text)}: only UTF-8 names are accepted`);
      continue;
    }
    if (IGNORED.has(key)) continue;
    if (!HONOURED.has(key)) throw unsafeArchive(`${where} has the keyword ${JSON.stringify(key)}, which trove cannot apply as GNU tar does`);
    if (global && LOCAL_ONLY.has(key)) throw unsafeArchive(`${where} sets ${JSON.stringify(key)} for every later member`);
    if (text === '') continue; // an empty value restores the ustar field
    if (key === 'uid' || key === 'gid') {
      if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_ID) throw unsafeArchive(`${where} has an invalid ${key} ${JSON.stringify(text)}`);
    } else if (key === 'size') {
      if (!/^\d{1,15}$/.test(text)) throw unsafeArchive(`${where} has an invalid size ${JSON.stringify(text)}`);
    } else if ((key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname') && (text.includes('\uFFFD') || text.includes('\0'))) {
      throw unsafeArchive(`${where} has a ${key} that is not valid UTF-8`);
    }
  }
}

/** The header of a member with the PAX records in force for it (global ones first, then its own). */
interface MemberHeader extends tarStream.Header {
  paxGlobal?: Map<string, Buffer>;
  paxLocal?: Map<string, Buffer>;
}

/** Ids of the local account and group databases, by name, read once. */
let accounts: { users: Map<string, number>; groups: Map<string, number> } | undefined;
function localIds(): { users: Map<string, number>; groups: Map<string, number> } {
  const read = (path: string) => {
    const m = new Map<string, number>();
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return m;
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d+$/.test(f[2]!) && !m.has(f[0]!)) m.set(f[0]!, Number(f[2]));
    }
    return m;
  };
  accounts ??= { users: read('/etc/passwd'), groups: read('/etc/group') };
  return accounts;
}

/**
 * Owner, mode and xattrs of a member. PAX `uid`/`gid` (global, then local)
 * override the ustar fields, as in GNU tar. An owner *name* that this system
 * knows under another id is refused: GNU tar (as root) and dpkg would give the
 * file that other id, while `tar -tv --numeric-owner` shows this one.
 */
function metaOf(h: MemberHeader, path: string): Meta {
  const pax = new Map<string, Buffer>([...(h.paxGlobal ?? []), ...(h.paxLocal ?? [])]);
  const text = (k: string) => {
    const v = pax.get(k)?.toString('utf8');
    return v === undefined || v === '' ? undefined : v;
  };
  const xattrs: Xattr[] = [];
  for (const [k, v] of pax) if (k.startsWith(XATTR_PREFIX)) xattrs.push({ name: k.slice(XATTR_PREFIX.length), value: v });
  const uid = text('uid') !== undefined ? Number(text('uid')) : (h.uid ?? 0);
  const gid = text('gid') !== undefined ? Number(text('gid')) : (h.gid ?? 0);
  if (!(Number.isInteger(uid) && uid >= 0 && uid <= MAX_ID && Number.isInteger(gid) && gid >= 0 && gid <= MAX_ID)) {
    throw unsafeArchive(`member ${JSON.stringify(path)} has an invalid owner ${uid}:${gid}`);
  }
  const uname = text('uname') ?? h.uname ?? '';
  const gname = text('gname') ?? h.gname ?? '';
  const ids = uname !== '' || gname !== '' ? localIds() : undefined;
  const byName = uname !== '' ? ids!.users.get(uname) : undefined;
  if (byName !== undefined && byName !== uid) {
    throw unsafeArchive(`member ${JSON.stringify(path)} is owned by uid ${uid} but by user name ${JSON.stringify(uname)}, which is uid ${byName} here`);
  }
  const byGroup = gname !== '' ? ids!.groups.get(gname) : undefined;
  if (byGroup !== undefined && byGroup !== gid) {
    throw unsafeArchive(`member ${JSON.stringify(path)} has gid ${gid} but group name ${JSON.stringify(gname)}, which is gid ${byGroup} here`);
  }
  return { mode: (h.mode ?? 0o644) & 0o7777, uid, gid, xattrs };
}

interface PaxInternals {
  _header: (Omit<MemberHeader, 'type'> & { type: string }) | null;
  _pax: Record<string, unknown> | null;
  _paxGlobal: Record<string, unknown> | null;
  _decodeLongHeader(buf: Uint8Array): void;
  _applyLongHeaders(): void;
}

/**
 * tar-stream's extractor, with PAX headers read by trove: tar-stream decodes
 * every value as UTF-8 (mangling binary xattrs), applies a global header only
 * to members that have a local one, and ignores PAX owners. Its (private)
 * long-header hooks are wrapped: the records of each header are parsed and
 * checked here, tar-stream keeps only the local path, linkpath and size that
 * frame the member, and each member's header carries the global and local
 * records in force for it.
 */
function extractor(): tarStream.Extract {
  const extract = tarStream.extract();
  const x = extract as unknown as PaxInternals;
  const decode = x._decodeLongHeader;
  const apply = x._applyLongHeaders;
  if (typeof decode !== 'function' || typeof apply !== 'function') throw new Error('tar-stream has no long-header hooks: PAX headers cannot be checked');
  let global: Map<string, Buffer> | undefined;
  let local: Map<string, Buffer> | undefined;
  x._decodeLongHeader = function (this: PaxInternals, buf: Uint8Array) {
    const type = this._header?.type;
    if (type === 'pax-global-header') {
      const records = paxRecords(buf);
      checkPax(records, true);
      global = records; // a new global header replaces the previous one, as in GNU tar
      this._paxGlobal = null;
      return;
    }
    if (type === 'pax-header') {
      const records = paxRecords(buf);
      checkPax(records, false);
      if (local) throw unsafeArchive('two PAX headers in a row for one member');
      local = records;
      const framing: Record<string, string> = {};
      for (const k of ['path', 'linkpath', 'size']) {
        const v = records.get(k)?.toString('utf8');
        if (v) framing[k] = v;
      }
      this._pax = framing;
      return;
    }
    decode.call(this, buf);
  };
  x._applyLongHeaders = function (this: PaxInternals) {
    apply.call(this);
    const h = this._header;
    if (h) {
      h.paxGlobal = global;
      h.paxLocal = local;
    }
    local = undefined;
  };
  return extract;
}

/** Members up to this size are read whole and stored with one synchronous put (fewer thread-pool round trips). */
const SMALL_MEMBER = 1 << 20;

/**
 * What a tar import writes to: `putSync`, when there, takes the small
 * members. A store with `publishSync` gets every member's content private,
 * and the import publishes what the finished tree shows to other users (a
 * directory member may come after the files it closes).
 */
export type TarStore = Pick<ObjectStore, 'put' | 'putStream'> & Partial<Pick<ObjectStore, 'putSync'>> & Partial<PublishStore>;

/** Stores one member's content: small ones read whole and put at once, big ones streamed. */
async function putMember(store: TarStore, entry: AsyncIterable<Uint8Array>, size: number, executable: boolean): Promise<PutResult> {
  const hint = { executable, private: store.publishSync !== undefined };
  if (!store.putSync || size > SMALL_MEMBER) return store.putStream(entry, hint);
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const c of entry) {
    chunks.push(c);
    got += c.length;
  }
  return store.putSync(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got), hint);
}

export interface TarImportOptions {
  /** Cap on the decompressed bytes of the archive (default: {@link maxImportBytes}). */
  maxBytes?: number;
  /** Called after each file member with the files and bytes read so far (phase `reading`, unit `files`). */
  onProgress?: OnProgress;
  /** The archive's size as stored (compressed), when known: it chooses how xz data is decompressed (util/compression.ts). */
  compressedSize?: number;
}

export interface TreeImport {
  tree: ObjectId;
  root: DirMeta;
  report: ImportReport;
}

/**
 * Imports a tar stream (optionally compressed: gzip, xz, zstd, detected from
 * its first bytes) into `store`. Members are validated as they arrive; the
 * first unsafe one aborts the whole import with E_UNSAFE_ARCHIVE.
 */
export async function importTar(source: Readable, store: TarStore, opts: TarImportOptions = {}): Promise<TreeImport> {
  const max = opts.maxBytes ?? maxImportBytes();
  const { head, stream } = await peek(source);
  const dec = decompressor(sniffCompression(head), opts.compressedSize);
  const extract = extractor();
  const builder = new TreeBuilder();
  const report = newReport();
  const progress = progressOf('reading', 'files');
  const tick = () => {
    if (!opts.onProgress) return;
    progress.done = report.files;
    progress.bytes = report.bytesRead;
    opts.onProgress(progress);
  };
  const cap = byteCap(max, () => unsafeArchive(`archive is larger than ${max} bytes once decompressed (TROVE_MAX_IMPORT_BYTES)`));
  const feeding = dec ? pipeline(stream, dec, cap, extract) : pipeline(stream, cap, extract);
  feeding.catch(() => {}); // errors surface through the iterator below
  let sawEntry = false;
  try {
    for await (const entry of extract) {
      sawEntry = true;
      const h = entry.header as MemberHeader;
      const path = h.name;
      const meta = metaOf(h, path);
      if ((h.type === 'file' || h.type === 'contiguous-file' || h.type === 'link' || h.type === 'symlink') && path.endsWith('/')) {
        throw unsafeArchive(`member ${JSON.stringify(path)} is a ${h.type} with a directory's name`);
      }
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          const put = await putMember(store, entry as AsyncIterable<Uint8Array>, h.size ?? 0, (meta.mode & 0o111) !== 0);
          if (put.size !== h.size) throw unsafeArchive(`member ${JSON.stringify(path)} is truncated`);
          builder.addFile(path, meta, put.id, put.size);
          report.files++;
          report.bytesRead += put.size;
          tick();
          continue;
        }
        case 'directory':
          builder.addDir(path, meta);
          report.dirs++;
          break;
        case 'symlink':
          builder.addSymlink(path, meta, h.linkname ?? '');
          report.symlinks++;
          break;
        case 'link':
          builder.addHardlink(path, meta, h.linkname ?? '');
          report.files++;
          tick();
          break;
        case 'character-device':
        case 'block-device':
        case 'fifo':
          report.skipped.push({ path, reason: h.type });
          break;
        default:
          throw unsupported(`member ${JSON.stringify(path)} has an unsupported type (${h.type ?? 'one trove does not know, such as a GNU sparse file'})`);
      }
      entry.resume();
    }
    await feeding;
  } catch (err) {
    stream.destroy();
    source.destroy();
    if (err instanceof Error && !('code' in err && String(err.code).startsWith('E_'))) {
      throw unsafeArchive(`not a valid tar archive: ${err.message}`);
    }
    throw err;
  }
  if (!sawEntry && head.length === 0) throw unsafeArchive('archive is empty');
  const { tree, root, publicFiles } = await builder.write(store);
  if (store.publishSync) for (const id of publicFiles) store.publishSync(id);
  return { tree, root, report };
}

/**
 * Reads the first chunk of `source`, to sniff compression, and returns it with
 * a stream of the whole content. (Not `unshift`: a ranged file stream that fits
 * in one chunk, like a small .deb member, has already ended by then and would
 * lose the chunk.)
 */
async function peek(source: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}
