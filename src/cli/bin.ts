import { createRequire } from 'node:module';
import { processIo } from '../util/io.js';
import { asksVersion, directName, packageVersion, withoutGlobals } from './argv.js';

// The program as `bin/trove.js` runs it: scripts/bundle.mjs builds this module
// as one CommonJS file, dist/bundle/trove.cjs, so that Node never starts its
// ES module loader for the commands that need nothing else. `trove --version`
// is answered here; `switch`, `rollback` and `status` go first through their
// own CommonJS module (direct-main.ts, dist/bundle/direct-main.cjs, loaded
// with require); every other command loads commander and the CLI, an ES
// module bundle (dist/bundle/cli-main.js). See docs/design-notes.md, "Short
// commands without commander".

// Output goes through processIo() (src/util/io.ts), which writes to the descriptors and ends
// the process quietly on a closed pipe (`trove ls -R main | head`), like coreutils.

/** The direct commands' module, beside this one in the bundle (see scripts/bundle.mjs). */
const DIRECT_MODULE = './direct-main.cjs';

type DirectModule = typeof import('./direct-main.js');

async function run(): Promise<number> {
  const name = directName(process.argv);
  if (name !== undefined) {
    const direct = createRequire(import.meta.url)(DIRECT_MODULE) as DirectModule;
    const code = await direct.directMain(process.argv, name, processIo());
    if (code !== undefined) return code;
  }
  const { main } = await import('./main.js');
  return main(process.argv, processIo());
}

if (asksVersion(withoutGlobals(process.argv))) processIo().stdout.write(`${packageVersion()}\n`);
else {
  // main and directMain report every failure themselves: a rejection here is a fault in trove, left unhandled.
  void run().then((code) => {
    process.exitCode = code;
  });
}
