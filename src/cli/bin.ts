import { asksVersion, directName, packageVersion, withoutGlobals } from './argv.js';

// The program as `bin/trove.js` runs it (through the bundle in dist/bundle/).
// `trove --version` needs nothing else: commander and the CLI are loaded only for a command,
// and `switch`, `rollback` and `status` first through their own module (direct-main.ts).

// A closed pipe (`trove ls -R main | head`) ends output quietly, like coreutils.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

if (asksVersion(withoutGlobals(process.argv))) process.stdout.write(`${packageVersion()}\n`);
else {
  const name = directName(process.argv);
  let code = name === undefined ? undefined : await (await import('./direct-main.js')).directMain(process.argv, name);
  if (code === undefined) {
    const { main } = await import('./main.js');
    code = await main(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
  process.exitCode = code;
}
