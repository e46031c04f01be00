import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tmpdir } from './tmp.js';

/** One line of the access log: method, path, status and body bytes sent. */
export interface AccessLine {
  method: string;
  path: string;
  status: number;
  bytes: number;
  /** nginx found the request already read behind the one before it on its connection (`$pipe`). */
  pipelined: boolean;
  /** nginx's serial number of the request's connection (`$connection`). */
  connection: number;
}

/** Options of a test nginx; defaults as documented on each field. */
export interface NginxInit {
  /** Compress responses (gzip on, for every type; default false). */
  gzip?: boolean;
  /** `limit_rate` for delta packs, e.g. '200k', to make a pull slow enough to interrupt (default none). */
  deltaRate?: string;
  /** `limit_rate` for everything else (default none). */
  rate?: string;
  /** Serve `objects/…/<id>.gz` to clients that accept gzip (`gzip_static on`; default false). */
  gzipStatic?: boolean;
  /** Worker processes; 0 runs one process without a master (default 0). */
  workers?: number;
  /** Requests served on one connection before nginx closes it (`keepalive_requests`; default 1000000). */
  keepaliveRequests?: number;
}

export interface Nginx {
  url: string;
  port: number;
  pid: number;
  /** Requests served so far (read from the access log). */
  accessLog(): AccessLine[];
  /** Forgets the requests logged so far (the log is truncated). */
  clearLog(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (bound and released; nginx binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function config(dir: string, root: string, port: number, init: NginxInit): string {
  const workers = init.workers ?? 0;
  return `${workers === 0 ? 'master_process off;' : `worker_processes ${workers};\nuser root;`}
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format trove '$request_method $uri $status $body_bytes_sent $pipe $connection';
  access_log ${dir}/access.log trove;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { application/json summary; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests ${init.keepaliveRequests ?? 1000000};
  keepalive_timeout 60s;
  ${init.gzip ? 'gzip on; gzip_types *; gzip_min_length 256; gzip_comp_level 1;' : ''}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    ${init.rate ? `limit_rate ${init.rate};` : ''}
    location /deltas/ { ${init.deltaRate ? `limit_rate ${init.deltaRate};` : ''} }
    location /objects/ { ${init.gzipStatic ? 'gzip_static on;' : ''} }
  }
}
`;
}

/** Starts nginx (its own config, logs and pid in a temp dir) serving `root` on a free loopback port. */
export async function startNginx(root: string, init: NginxInit = {}): Promise<Nginx> {
  const dir = tmpdir('trove-nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), config(dir, root, port, init));
    writeFileSync(join(dir, 'access.log'), '');
    const proc = spawn('nginx', ['-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
    running.add(proc);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      running.delete(proc);
    });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await accepting(port))) await new Promise((r) => setTimeout(r, 20));
    if (!exited && (await accepting(port))) {
      const log = join(dir, 'access.log');
      return {
        url: `http://127.0.0.1:${port}/`,
        port,
        pid: proc.pid!,
        accessLog: () =>
          (existsSync(log) ? readFileSync(log, 'utf8') : '')
            .split('\n')
            .filter(Boolean)
            .map((l) => {
              const [method, path, status, bytes, pipe, connection] = l.split(' ');
              return { method: method!, path: path!, status: Number(status), bytes: Number(bytes), pipelined: pipe === 'p', connection: Number(connection) };
            }),
        clearLog: () => writeFileSync(log, ''),
        stop: async () => {
          if (exited) return;
          const gone = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGKILL');
          await gone;
        },
      };
    }
    proc.kill('SIGKILL');
    const err = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    if (attempt >= 4) throw new Error(`nginx did not start: ${err}`);
  }
}

/** Ids of the objects a server's access log shows fetched under /objects/, in request order. */
export function objectRequests(n: Nginx): string[] {
  return n
    .accessLog()
    .filter((l) => l.path.startsWith('/objects/'))
    .map((l) => l.path.slice('/objects/'.length).replace('/', ''));
}
