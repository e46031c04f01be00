import type { Command } from 'commander';
import { usage } from '../../util/errors.js';
import { serveRepo } from '../../remote/serve.js';
import { Repo } from '../../repo/repo.js';
import { io, print, repoPath } from '../context.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a repository directory read-only over HTTP (GET, HEAD, byte ranges) until interrupted')
    .argument('[dir]', 'repository directory (default: --repo)')
    .option('-p, --port <port>', 'port (0: any free port)', '8000')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--log', 'print one line per request on stderr')
    .option('--include-private', 'also serve private objects (files not readable by other users), for a mirror on a trusted network')
    .option('--json', 'print the repository and URL served as one line of JSON')
    .addHelpText('after', '\nOnly objects/, refs/, deltas/, signatures/, summary and summary.sig are served; private objects only with --include-private.')
    .action(async (dir: string | undefined, opts: { port: string; host: string; log?: boolean; includePrivate?: boolean; json?: boolean }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage('--port must be 0..65535');
      const repo = await Repo.open(dir ?? repoPath(cmd));
      const served = await serveRepo(repo.path, {
        host: opts.host,
        port,
        includePrivate: opts.includePrivate === true,
        onRequest: opts.log ? (l) => io().stderr.write(`${l.method} ${l.path} ${l.status} ${l.bytes}\n`) : undefined,
      });
      if (opts.json) io().stdout.write(`${JSON.stringify({ repo: repo.path, url: served.url })}\n`);
      else print(`serving ${repo.path} at ${served.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await served.close();
    });
}
