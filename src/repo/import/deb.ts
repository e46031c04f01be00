import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import * as tarStream from 'tar-stream';
import { pipeline } from 'node:stream/promises';
import { unsafeArchive } from '../../util/errors.js';
import { byteCap, decompressor, readHead, sniffCompression } from '../../util/compression.js';
import { MAX_CONTROL_FILE_BYTES, MAX_CONTROL_TAR_BYTES } from '../../util/limits.js';
import { importTar, type TarImportOptions, type TarStore, type TreeImport } from './tar.js';

const AR_MAGIC = '!<arch>\n';
const HEADER = 60;

interface ArMember {
  name: string;
  offset: number;
  size: number;
}

/** True when the file starts with the ar magic of a Debian package. */
export async function isDeb(path: string): Promise<boolean> {
  return (await readHead(path, 8)).toString('latin1') === AR_MAGIC;
}

/** Lists the members of an ar archive, checking every header against the file size. */
async function arMembers(path: string): Promise<ArMember[]> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const members: ArMember[] = [];
    let pos = AR_MAGIC.length;
    const hdr = Buffer.alloc(HEADER);
    while (pos < fileSize) {
      const { bytesRead } = await fh.read(hdr, 0, HEADER, pos);
      if (bytesRead !== HEADER) throw unsafeArchive(`${path}: truncated ar header at offset ${pos}`);
      if (hdr[58] !== 0x60 || hdr[59] !== 0x0a) throw unsafeArchive(`${path}: bad ar header at offset ${pos}`);
      const name = hdr.subarray(0, 16).toString('latin1').trim().replace(/\/$/, '');
      const sizeText = hdr.subarray(48, 58).toString('latin1').trim();
      if (!/^\d+$/.test(sizeText)) throw unsafeArchive(`${path}: bad ar member size ${JSON.stringify(sizeText)}`);
      const size = Number(sizeText);
      const offset = pos + HEADER;
      if (offset + size > fileSize) throw unsafeArchive(`${path}: member ${name} is truncated`);
      members.push({ name, offset, size });
      pos = offset + size + (size % 2);
    }
    return members;
  } finally {
    await fh.close();
  }
}

async function member(path: string, prefix: string): Promise<ArMember> {
  const members = await arMembers(path);
  if (members[0]?.name !== 'debian-binary') throw unsafeArchive(`${path}: not a Debian package (first member is not debian-binary)`);
  const m = members.find((x) => x.name === prefix || x.name.startsWith(`${prefix}.`));
  if (!m) throw unsafeArchive(`${path}: no ${prefix} member`);
  return m;
}

function memberStream(path: string, m: ArMember) {
  return createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 });
}

/** Imports a `.deb`'s data archive (its files) into `store`. */
export async function importDeb(path: string, store: TarStore, opts: TarImportOptions = {}): Promise<TreeImport> {
  const m = await member(path, 'data.tar');
  return importTar(memberStream(path, m), store, { ...opts, compressedSize: m.size });
}

/** The fields of a `.deb`'s control file (`Package`, `Version`, `Architecture`, `Depends`, ...). */
export async function readDebControl(path: string): Promise<Record<string, string>> {
  const m = await member(path, 'control.tar');
  const head = await readHead(path, 8, m.offset);
  const dec = decompressor(sniffCompression(head), m.size);
  const extract = tarStream.extract();
  const src = memberStream(path, m);
  const cap = byteCap(MAX_CONTROL_TAR_BYTES, () => unsafeArchive(`${path}: control archive is larger than ${MAX_CONTROL_TAR_BYTES} bytes once decompressed`));
  const feeding = dec ? pipeline(src, dec, cap, extract) : pipeline(src, cap, extract);
  feeding.catch(() => {});
  let text: string | undefined;
  try {
    for await (const entry of extract) {
      if (entry.header.name.replace(/^\.\//, '') === 'control' && entry.header.type === 'file') {
        if ((entry.header.size ?? 0) > MAX_CONTROL_FILE_BYTES) throw unsafeArchive(`${path}: control file is larger than ${MAX_CONTROL_FILE_BYTES} bytes`);
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        text = Buffer.concat(chunks).toString('utf8');
      } else entry.resume();
    }
    await feeding;
  } catch (err) {
    src.destroy();
    if (err instanceof Error && !('code' in err && String(err.code).startsWith('E_'))) {
      throw unsafeArchive(`${path}: control archive is not a valid tar archive: ${err.message}`);
    }
    throw err;
  }
  if (text === undefined) throw unsafeArchive(`${path}: control archive has no control file`);
  return parseControl(text);
}

/** Parses a deb822 paragraph; continuation lines are joined with newlines. */
export function parseControl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      out[last] += `\n${line.slice(1)}`;
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    last = line.slice(0, i).trim();
    out[last] = line.slice(i + 1).trim();
  }
  return out;
}
