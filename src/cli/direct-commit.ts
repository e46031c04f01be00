import { command as commit } from './commands/commit.js';
import { directRunner } from './direct.js';

// `trove commit` in a bundle file of its own, dist/bundle/direct-commit.cjs
// (scripts/bundle.mjs), as direct-checkout.ts is for checkout: a commit of a
// small change is a few hundred milliseconds, and loading the CLI behind
// commander was about 20 ms of it.

/** Runs `argv` when it is a commit in a plain form (see direct.ts); undefined when commander must. */
export const directMain = directRunner({ commit });
