#!/usr/bin/env node
// The CLI, bundled by scripts/bundle.mjs from dist/cli/bin.js (src/cli/bin.ts).
import '../dist/bundle/trove.js';
