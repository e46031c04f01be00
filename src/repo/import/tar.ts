import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { unsafeArchive, unsupported } from '../../util/errors.js';
import type { DirMeta, Xattr } from '../../format/types.js';
import type { ObjectId } from '../../util/hash.js';
import type { ObjectStore, PutResult } from '../../store/types.js';
import { type Meta, TreeBuilder } from './builder.js';
import { decompressor, sniffCompression } from '../../util/compression.js';
import { type ImportReport, newReport } from './report.js';

const XATTR_PREFIX = 'SCHILY.xattr.';

function metaOf(h: tarStream.Header): Meta {
  const xattrs: Xattr[] = [];
  for (const [k, v] of Object.entries((h.pax ?? {}) as Record<string, unknown>)) {
    if (!k.startsWith(XATTR_PREFIX)) continue;
    // Raw bytes from rawXattrs below; a plain string only if tar-stream changed underneath us (the tests pin it).
    xattrs.push({ name: k.slice(XATTR_PREFIX.length), value: Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8') });
  }
  return { mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, xattrs };
}

/**
 * The `SCHILY.xattr.*` records of a PAX header body with their values as raw
 * bytes. A record is `<len> <key>=<value>\n`, `len` counting bytes, and GNU
 * tar writes binary values (security.capability, ACLs) verbatim.
 */
export function rawXattrs(body: Uint8Array): Map<string, Buffer> {
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
    if (key.startsWith(XATTR_PREFIX)) out.set(key, Buffer.from(buf.subarray(eq + 1, end - 1)));
    pos = end;
  }
  return out;
}

interface PaxInternals {
  _header: { type: string } | null;
  _pax: Record<string, unknown> | null;
  _paxGlobal: Record<string, unknown> | null;
  _decodeLongHeader(buf: Uint8Array): void;
}

/**
 * tar-stream's extractor, with PAX xattr values kept as bytes. tar-stream
 * decodes every PAX value as UTF-8, which mangles binary xattrs, and offers
 * no raw access; so its (private) long-header hook is wrapped to put the raw
 * values back after it has parsed the header.
 */
function extractor(): tarStream.Extract {
  const extract = tarStream.extract();
  const x = extract as unknown as PaxInternals;
  const decode = x._decodeLongHeader;
  if (typeof decode !== 'function') throw new Error('tar-stream has no _decodeLongHeader: PAX xattrs cannot be read as bytes');
  x._decodeLongHeader = function (this: PaxInternals, buf: Uint8Array) {
    decode.call(this, buf);
    const type = this._header?.type;
    const target = type === 'pax-header' ? this._pax : type === 'pax-global-header' ? this._paxGlobal : null;
    if (target) for (const [k, v] of rawXattrs(buf)) target[k] = v;
  };
  return extract;
}

/** Members up to this size are read whole and stored with one synchronous put (fewer thread-pool round trips). */
const SMALL_MEMBER = 1 << 20;

/** What a tar import writes to: `putSync`, when there, takes the small members. */
export type TarStore = Pick<ObjectStore, 'put' | 'putStream'> & Partial<Pick<ObjectStore, 'putSync'>>;

/** Stores one member's content: small ones read whole and put at once, big ones streamed. */
async function putMember(store: TarStore, entry: AsyncIterable<Uint8Array>, size: number, executable: boolean): Promise<PutResult> {
  if (!store.putSync || size > SMALL_MEMBER) return store.putStream(entry, { executable });
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const c of entry) {
    chunks.push(c);
    got += c.length;
  }
  return store.putSync(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got), { executable });
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
export async function importTar(source: Readable, store: TarStore): Promise<TreeImport> {
  const { head, stream } = await peek(source);
  const dec = decompressor(sniffCompression(head));
  const extract = extractor();
  const builder = new TreeBuilder();
  const report = newReport();
  const feeding = dec ? pipeline(stream, dec, extract) : pipeline(stream, extract);
  feeding.catch(() => {}); // errors surface through the iterator below
  let sawEntry = false;
  try {
    for await (const entry of extract) {
      sawEntry = true;
      const h = entry.header;
      const path = h.name;
      const meta = metaOf(h);
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          const put = await putMember(store, entry as AsyncIterable<Uint8Array>, h.size ?? 0, (meta.mode & 0o111) !== 0);
          if (put.size !== h.size) throw unsafeArchive(`member ${JSON.stringify(path)} is truncated`);
          builder.addFile(path, meta, put.id, put.size);
          report.files++;
          report.bytesRead += put.size;
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
          break;
        case 'character-device':
        case 'block-device':
        case 'fifo':
          report.skipped.push({ path, reason: h.type });
          break;
        default:
          throw unsupported(`member ${JSON.stringify(path)} has unsupported type ${h.type}`);
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
  const { tree, root } = await builder.write(store);
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
