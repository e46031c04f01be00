/**
 * Tar archives crafted byte for byte, for what no archiver writes on
 * purpose: PAX owners and global headers in any combination, keywords trove
 * refuses, hard links that claim another mode, and zstd frames of RLE blocks
 * (a few bytes standing for gigabytes).
 */
import { paxRecord } from './pax.js';
export { prng } from './prng.js';

export type Pax = [string, string | Buffer][];

export interface CraftMember {
  name: string;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '5' directory. */
  type: '0' | '1' | '2' | '5' | '\0';
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  linkname?: string;
  content?: Buffer;
  /** Records of a local PAX header (`x`) before the member. */
  pax?: Pax;
}

export type CraftItem = CraftMember | { global: Pax };

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
const padded = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A 512-byte ustar header with a valid checksum; a name over 100 bytes is cut (the PAX path carries it). */
export function ustarHeader(f: { name: string; type: string; mode: number; uid: number; gid: number; size: number; linkname?: string; uname?: string; gname?: string }): Buffer {
  const h = Buffer.alloc(512);
  Buffer.from(f.name).copy(h, 0, 0, 100);
  h.write(octal(f.mode, 8), 100);
  h.write(octal(Math.min(f.uid, 0o7777777), 8), 108);
  h.write(octal(Math.min(f.gid, 0o7777777), 8), 116);
  h.write(octal(f.size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(f.type === '\0' ? '\0' : f.type, 156);
  if (f.linkname) Buffer.from(f.linkname).copy(h, 157, 0, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  if (f.uname) h.write(f.uname, 265, 32);
  if (f.gname) h.write(f.gname, 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function paxBlock(records: Pax, global: boolean, n: number): Buffer {
  const body = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
  return Buffer.concat([ustarHeader({ name: global ? `GlobalHead.${n}` : `PaxHeader/${n}`, type: global ? 'g' : 'x', mode: 0o644, uid: 0, gid: 0, size: body.length }), padded(body)]);
}

/** The archive of `items`, in order, with its two zero blocks. */
export function craftTar(items: CraftItem[]): Buffer {
  const parts: Buffer[] = [];
  items.forEach((it, n) => {
    if ('global' in it) {
      parts.push(paxBlock(it.global, true, n));
      return;
    }
    const content = it.type === '0' || it.type === '\0' ? (it.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    if (it.pax && it.pax.length > 0) parts.push(paxBlock(it.pax, false, n));
    parts.push(ustarHeader({ ...it, size: content.length }), padded(content));
  });
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/**
 * A zstd frame whose content is `head` followed by `zeros` zero bytes:
 * `head` as raw blocks, the zeros as RLE blocks of 128 KiB (4 bytes each).
 */
export function zstdZeros(head: Buffer, zeros: number): Buffer {
  const MAX = 128 * 1024;
  const blocks: Buffer[] = [];
  const blockHeader = (last: boolean, type: number, size: number) => {
    const v = (size << 3) | (type << 1) | (last ? 1 : 0);
    return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
  };
  const pieces: { type: number; size: number; data: Buffer }[] = [];
  for (let i = 0; i < head.length; i += MAX) {
    const data = head.subarray(i, i + MAX);
    pieces.push({ type: 0, size: data.length, data });
  }
  for (let left = zeros; left > 0; left -= MAX) pieces.push({ type: 1, size: Math.min(MAX, left), data: Buffer.from([0]) });
  pieces.forEach((p, i) => blocks.push(blockHeader(i === pieces.length - 1, p.type, p.size), p.data));
  // Magic, then a frame header descriptor with no content size and no checksum, and a 128 KiB window.
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]), ...blocks]);
}

/** An ar archive (a .deb when its members are debian-binary, control.tar.*, data.tar.*). */
export function arArchive(members: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

