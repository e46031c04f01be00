import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from './code-cache.js';
import { processIo } from '../util/io.js';
import { asksVersion, DIRECT_MODULES, directName, packageVersion, withoutGlobals } from './argv.js';
import { prewarmDaemon } from '../fuse/prewarm.js';
import { addonPath } from '../util/native-addon.js';

// The program as `bin/trove.js` runs it: scripts/bundle.mjs builds this module
// as one CommonJS file, dist/bundle/trove.cjs, so that Node never starts its
// ES module loader for the commands that need nothing else. `trove --version`
// is answered here; `switch`, `rollback`, `status`, `checkout` and `commit`
// go first through a CommonJS module of their own (direct-main.ts,
// direct-checkout.ts and direct-commit.ts, dist/bundle/direct-*.cjs, loaded
// with require, argv.ts's DIRECT_MODULES); every
// other command loads commander and the CLI, one CommonJS file too
// (dist/bundle/cli-main.cjs). See docs/design-notes.md, "Short commands
// without commander" and "The CLI as one CommonJS file".

// Output goes through processIo() (src/util/io.ts), which writes to the descriptors and ends
// the process quietly on a closed pipe (`trove ls -R main | head`), like coreutils.

/** The CLI's module, beside this one in the bundle (see scripts/bundle.mjs), as are the direct commands' (DIRECT_MODULES). */
const CLI_MODULE = './cli-main.cjs';

type DirectModule = typeof import('./direct-main.js');
type CliModule = typeof import('./main.js');

async function run(): Promise<number> {
  const name = directName(process.argv);
  const load = createRequire(import.meta.url);
  if (name !== undefined) {
    const direct = load(DIRECT_MODULES[name]) as DirectModule;
    const code = await direct.directMain(process.argv, name, processIo());
    if (code !== undefined) return code;
  }
  const { main } = requireWithCodeCache(fileURLToPath(new URL(CLI_MODULE, import.meta.url))) as CliModule;
  return main(process.argv, processIo());
}

/**
 * `trove mount` that will start a daemon (not --foreground, not asking for
 * help), where the libfuse 3 binding is built: the daemon is started first
 * thing (src/fuse/prewarm.ts), to load beside the command.
 */
function startsDaemon(words: string[]): boolean {
  return words[0] === 'mount' && !words.some((w) => w === '--foreground' || w === '--help' || w === '-h') && existsSync(addonPath('fuse3'));
}

const words = withoutGlobals(process.argv);
if (asksVersion(words)) processIo().stdout.write(`${packageVersion()}\n`);
else {
  if (startsDaemon(words)) prewarmDaemon(fileURLToPath(new URL('./main.js', import.meta.url)));
  // main and directMain report every failure themselves: a rejection here is a fault in trove, left unhandled.
  void run().then((code) => {
    process.exitCode = code;
  });
}
