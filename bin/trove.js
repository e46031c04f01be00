#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TROVE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// NODE_EXTRA_CA_CERTS moved aside: Node would parse the file at every start (40 ms for the system
// bundle) though most commands make no TLS connection; an HTTPS remote still trusts its certificates
// (src/util/extra-ca.ts reads the file named by TROVE_EXTRA_CA_CERTS when one is first needed).
// The CLI, bundled by scripts/bundle.mjs from dist/cli/bin.js (src/cli/bin.ts).
// CommonJS (bin/package.json), as is the entry it loads: see that script.
require('../dist/bundle/trove.cjs');
