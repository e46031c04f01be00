/**
 * Hand-made tar archives with PAX extended headers, byte for byte: tar-stream
 * writes PAX values only as strings, and GNU tar only what the filesystem has.
 */

/** One PAX record, `<len> <key>=<value>\n`, where len counts the whole record in bytes. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A 512-byte ustar header with a valid checksum. */
function header(name: string, type: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const padded = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A tar of one regular file `name` preceded by a PAX header (`x`) holding exactly `pax`. */
export function paxTar(pax: Buffer, name: string, content: string): Buffer {
  const data = Buffer.from(content);
  return Buffer.concat([
    header(`PaxHeader/${name}`, 'x', pax.length),
    padded(pax),
    header(name, '0', data.length),
    padded(data),
    Buffer.alloc(1024),
  ]);
}
