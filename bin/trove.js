#!/usr/bin/env node
// The CLI, bundled by scripts/bundle.mjs from dist/cli/bin.js (src/cli/bin.ts).
// CommonJS (bin/package.json), as is the entry it loads: see that script.
require('../dist/bundle/trove.cjs');
