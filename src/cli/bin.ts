import { main } from './main.js';

// The program as `bin/trove.js` runs it (through the bundle in dist/bundle/).

// A closed pipe (`trove ls -R main | head`) ends output quietly, like coreutils.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void main(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  process.exitCode = code;
});
