import { command as rollback } from './commands/rollback.js';
import { command as status } from './commands/status.js';
import { command as switchCommand } from './commands/switch.js';
import { directRunner } from './direct.js';

// The short direct commands as one module with everything they need, for the
// bundle: scripts/bundle.mjs builds it on its own as one CommonJS file,
// dist/bundle/direct-main.cjs, so that `trove switch N` loads one file rather
// than the two dozen shared chunks of the whole CLI's bundle. bin.ts comes
// here first for those command names; main.ts runs the same commands through
// direct.ts.

/** Runs `argv` when it is `name` in a plain form (see direct.ts); undefined when commander must. */
export const directMain = directRunner({ switch: switchCommand, rollback, status });
