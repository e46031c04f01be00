import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Duplex, PassThrough, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type lzmaNative from 'lzma-native';
import { unsafeArchive, unsupported } from './errors.js';

let lzmaModule: typeof lzmaNative | undefined;

/**
 * lzma-native, loaded when xz is first met: loading it (and the stream
 * library it brings) costs about 0.1 s, which every command that can read a
 * pack or an archive would otherwise pay at start.
 */
export function lzma(): typeof lzmaNative {
  return (lzmaModule ??= createRequire(import.meta.url)('lzma-native') as typeof lzmaNative);
}

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

/** Compression of a stream, from its first bytes (never from a file name). */
export function sniffCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** First `n` bytes of a file at `offset`. */
export async function readHead(path: string, n: number, offset = 0): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Input slice fed to the zstd decoder at a time. fzstd decodes every whole
 * block a push completes, and a 4-byte RLE block can stand for 128 KiB, so
 * the output of one push is bounded by the slice (256 bytes: 8 MiB at
 * worst) and the consumer's pace is awaited between slices.
 */
const ZSTD_SLICE = 256;

/**
 * A zstd decoder that honours backpressure: the whole output of an archive
 * never piles up in memory ahead of the reader, however well it compresses.
 */
function zstdStream(): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let out: Uint8Array[] = [];
    const dec = new ZstdDecompress((chunk) => {
      if (chunk.length > 0) out.push(chunk);
    });
    const drain = function* (): Generator<Buffer> {
      const got = out;
      out = [];
      for (const c of got) yield Buffer.from(c);
    };
    const frames = zstdFrameCheck();
    for await (const chunk of source) {
      frames(chunk);
      for (let i = 0; i < chunk.length; i += ZSTD_SLICE) {
        dec.push(chunk.subarray(i, i + ZSTD_SLICE));
        yield* drain();
      }
    }
    dec.push(new Uint8Array(0), true);
    yield* drain();
  });
}

/** The largest window a zstd frame may ask for: zstd's own default limit (`--memory=128MB`). */
const ZSTD_MAX_WINDOW = 128 * 2 ** 20;

/**
 * Follows the frame and block structure of a zstd stream (RFC 8878) as its
 * bytes go by, and fails on a frame whose window is larger than
 * {@link ZSTD_MAX_WINDOW} before the decoder sees it: fzstd allocates and
 * shifts a window of whatever size a frame header names, up to 2 GiB.
 */
function zstdFrameCheck(): (chunk: Uint8Array) => void {
  type State = 'magic' | 'skipSize' | 'fhd' | 'header' | 'block';
  let state: State = 'magic';
  let need = 4;
  let skip = 0;
  let acc: number[] = [];
  let fhd = 0;
  let checksum = false;
  const bad = (why: string) => unsafeArchive(`zstd stream: ${why}`);
  const le = (b: number[], from: number, n: number) => {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[from + i]!;
    return v;
  };
  const step = () => {
    const b = acc;
    acc = [];
    switch (state) {
      case 'magic': {
        const magic = le(b, 0, 4);
        if (magic === 0xfd2fb528) [state, need] = ['fhd', 1];
        else if (magic >= 0x184d2a50 && magic <= 0x184d2a5f) [state, need] = ['skipSize', 4];
        else throw bad('bad frame magic');
        return;
      }
      case 'skipSize':
        skip = le(b, 0, 4);
        [state, need] = ['magic', 4];
        return;
      case 'fhd': {
        fhd = b[0]!;
        const single = (fhd >> 5) & 1;
        checksum = ((fhd >> 2) & 1) === 1;
        if ((fhd >> 3) & 1) throw bad('reserved bit set in a frame header');
        const fcs = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
        need = (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + fcs;
        state = 'header';
        if (need === 0) step();
        return;
      }
      case 'header': {
        const single = (fhd >> 5) & 1;
        let window: number;
        if (!single) {
          const wd = b[0]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          const fcsSize = [1, 2, 4, 8][fhd >> 6]!;
          window = le(b, b.length - fcsSize, fcsSize) + (fcsSize === 2 ? 256 : 0);
        }
        if (window > ZSTD_MAX_WINDOW) throw bad(`a frame needs a ${window}-byte window, more than ${ZSTD_MAX_WINDOW}`);
        [state, need] = ['block', 3];
        return;
      }
      case 'block': {
        const v = le(b, 0, 3);
        const type = (v >> 1) & 3;
        if (type === 3) throw bad('reserved block type');
        skip = type === 1 ? 1 : v >>> 3;
        if (v & 1) {
          skip += checksum ? 4 : 0;
          [state, need] = ['magic', 4];
        } else need = 3;
        return;
      }
    }
  };
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      acc.push(chunk[i++]!);
      if (acc.length === need) step();
    }
  };
}

/**
 * A decompressing stream for `c`, or undefined for uncompressed data.
 * `compressedSize`, when the caller knows it, chooses how xz data is
 * decompressed (xzDecompressor).
 */
export function decompressor(c: Compression, compressedSize?: number): Duplex | undefined {
  switch (c) {
    case 'none':
      return undefined;
    case 'gzip':
      return createGunzip();
    case 'xz':
      return xzDecompressor(compressedSize);
    case 'zstd':
      return zstdStream();
    case 'bzip2':
      throw unsupported('bzip2-compressed archives are not supported; recompress with xz, gzip or zstd');
  }
}

/**
 * xz data smaller than this, when its size is known, is decompressed in this
 * process (lzma-native, on libuv's pool) rather than by the xz program: a
 * child costs a fork of this process and two pipes, which for a `.deb`'s
 * archives took more than the decompression (docs/benchmarks.md, "pkg add:
 * xz in process or in a child").
 */
export const XZ_CHILD_MIN = 16 << 20;

/** Most memory an xz stream may ask for to be decompressed (xz -9 needs 65 MiB). */
const XZ_MEMLIMIT_MIB = 256;
const XZ_MEMLIMIT = `${XZ_MEMLIMIT_MIB}MiB`;

/** lzma-native's decoder, with the same memory limit as the xz program's. */
function lzmaDecompressor(): Duplex {
  // createDecompressor takes lzma-native's stream options (memlimit among them); its typings list only `synchronous`.
  const options = { memlimit: XZ_MEMLIMIT_MIB << 20 } as Parameters<typeof lzmaNative.createDecompressor>[0];
  return lzma().createDecompressor(options);
}
let xzPath: string | null | undefined;

/**
 * A decompressor of xz data. lzma-native for a stream of a known size below
 * XZ_CHILD_MIN. Otherwise the xz program (xz-utils) in a child process
 * when it is installed: it decompresses about twice as fast as lzma-native
 * does, on another core while this process reads what it writes (dpkg-deb
 * decompresses in a child process too). Else lzma-native. The output ends
 * only once xz exited 0: a stream xz refuses (corrupt, truncated, past the
 * memory limit) fails with xz's message, never ends early as if whole.
 * TROVE_XZ=lzma-native chooses lzma-native.
 */
function xzDecompressor(compressedSize: number | undefined): Duplex {
  if (compressedSize !== undefined && compressedSize < XZ_CHILD_MIN) return lzmaDecompressor();
  xzPath ??= ['/usr/bin/xz', '/bin/xz'].find((p) => existsSync(p)) ?? null;
  if (xzPath === null || process.env.TROVE_XZ === 'lzma-native') return lzmaDecompressor();
  // --threads=0: a stream of several blocks (trove's delta packs) is decompressed on every core.
  const child = spawn(xzPath, ['--decompress', '--stdout', '--quiet', '--threads=0', `--memlimit-decompress=${XZ_MEMLIMIT}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  const fail = (err: Error) => {
    out.destroy(err);
    duplex.destroy(err);
  };
  child.on('error', fail);
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else fail(new Error(`xz: ${stderr.trim().replace(/^\S*xz: (\(stdin\): )?/, '') || (signal ? `killed by ${signal}` : `exit status ${code}`)}`));
  });
  // Nothing reads any more (the caller failed or stopped): xz is not left running.
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return duplex;
}

/**
 * A pass-through stream that fails with `onOver()` once more than `max`
 * bytes went through it: the cap on what a decompressor may produce.
 */
export function byteCap(max: number, onOver: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(onOver());
      else cb(null, chunk);
    },
  });
}
