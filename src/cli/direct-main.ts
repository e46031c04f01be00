import { type Io, processIo, withIo } from '../util/io.js';
import { type DirectName, withoutGlobals } from './argv.js';
import { command as rollback } from './commands/rollback.js';
import { command as status } from './commands/status.js';
import { command as switchCommand } from './commands/switch.js';
import { type DirectCommand, runParsed } from './direct.js';
import { reportFailure } from './report.js';

// The direct commands as one module with everything they need, for the
// bundle: scripts/bundle.mjs builds it on its own as one CommonJS file,
// dist/bundle/direct-main.cjs, so that `trove switch N` loads one file rather
// than the two dozen shared chunks of the whole CLI's bundle. bin.ts comes
// here first for those command names; main.ts runs the same commands through
// direct.ts.

const COMMANDS: Record<DirectName, DirectCommand<never>> = { switch: switchCommand, rollback, status };

/**
 * Runs `argv` when it is `name` in a plain form (see direct.ts) and returns
 * the exit code, reporting errors as main does; undefined, having done
 * nothing, when commander must parse it (main.ts then does).
 */
export function directMain(argv: string[], name: DirectName, out: Io = processIo()): Promise<number | undefined> {
  return withIo(out, async () => {
    try {
      return (await runParsed(argv, COMMANDS[name] as DirectCommand<unknown>)) ? 0 : undefined;
    } catch (err) {
      return reportFailure(err, withoutGlobals(argv).includes('--json'));
    }
  });
}
