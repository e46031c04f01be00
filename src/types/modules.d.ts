// Minimal declarations for native modules that ship no types; only what trove uses.
declare module 'fs-ext' {
  const fsExt: {
    flock(fd: number, flags: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  };
  export default fsExt;
}

declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  const lzma: {
    createDecompressor(opts?: { synchronous?: boolean }): Transform;
    createCompressor(opts: { preset: number; threads: number }): Transform;
  };
  export default lzma;
}
