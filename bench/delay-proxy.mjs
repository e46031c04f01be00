// A TCP proxy that holds every byte for DELAY ms in each direction, in
// order: between a client and a server on loopback it makes a link of
// 2 × DELAY ms round trip (the kernel here has no netem). Connection set-up
// is not delayed; undici keeps its connections, so requests pay the round
// trip and set-up does not matter.
//
//   node bench/delay-proxy.mjs LISTEN_PORT TARGET_PORT DELAY_MS
//
// Prints "ready" once listening.
import { createConnection, createServer } from 'node:net';

const [listen, target, delay] = process.argv.slice(2).map(Number);
if (!listen || !target || !(delay >= 0)) {
  console.error('usage: node bench/delay-proxy.mjs LISTEN_PORT TARGET_PORT DELAY_MS');
  process.exit(2);
}

/** Copies `from` to `to`, each chunk and the end `delay` ms late (timers of one duration fire in order). */
function pipeLate(from, to) {
  from.on('data', (c) => setTimeout(() => to.destroyed || to.write(c), delay));
  from.on('end', () => setTimeout(() => to.destroyed || to.end(), delay));
  from.on('error', () => setTimeout(() => to.destroy(), delay));
}

const server = createServer({ noDelay: true }, (client) => {
  const upstream = createConnection({ host: '127.0.0.1', port: target, noDelay: true });
  pipeLate(client, upstream);
  pipeLate(upstream, client);
});
server.listen(listen, '127.0.0.1', () => console.log('ready'));
