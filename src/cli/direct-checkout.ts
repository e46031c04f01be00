import { command as checkout } from './commands/checkout.js';
import { directRunner } from './direct.js';

// `trove checkout` in a bundle of its own, dist/bundle/direct-checkout.cjs
// (scripts/bundle.mjs), as direct-main.ts is for the short commands: a
// checkout is a few hundred milliseconds of work, and loading the CLI behind
// commander (one 1.5 MB file, commander and node:child_process) was about 20
// ms of it. Its own file keeps the checkout's code out of `switch`'s.

/** Runs `argv` when it is a checkout in a plain form (see direct.ts); undefined when commander must. */
export const directMain = directRunner({ checkout });
