// Minimal declarations for native modules that ship no types; only what trove uses.
declare module 'fs-ext' {
  const fsExt: {
    flock(fd: number, flags: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
    flockSync(fd: number, flags: string): void;
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

// undici's index loads all of it (fetch, WebSocket, mocks, caches: about 1 MB
// bundled, 100 ms to load); trove needs only the connection pool and its
// request API (which the index would add to every dispatcher's prototype).
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  const request: (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  export default request;
}
