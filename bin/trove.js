#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A closed pipe (`trove ls -R main | head`) ends output quietly, like coreutils.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  process.exitCode = code;
});
