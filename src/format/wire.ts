import { isUtf8 } from 'node:buffer';
import { badObject } from '../util/errors.js';
import { isWellFormedText } from './names.js';

/*
 * The protobuf wire format, as much of it as trove.proto uses: varints
 * (uint32, uint64, int32, int64, bool, enums) and length-delimited fields
 * (strings, bytes, messages); no packed or fixed-width fields. The writer
 * writes fields in the order it is called, which encodeTree and
 * encodeCommit make field-number order, and skips fields holding their
 * proto3 default, so what it writes is canonical. The reader decodes one
 * message by a schema; the codec refuses non-canonical bytes by encoding
 * what it read and comparing (docs/design-notes.md, "A codec without
 * protobufjs at run time"). test/wire.test.ts holds both to protobufjs's
 * code generated from trove.proto.
 */

const WIRE_VARINT = 0;
const WIRE_DELIMITED = 2;
const TWO_32 = 0x1_0000_0000;

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Writes one message. It shares one scratch buffer with every other writer,
 * so one must be finished before the next is made (encoding is synchronous
 * and never nested).
 */
export class ProtoWriter {
  private buf = scratch;
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    scratch = grown;
  }

  /** A non-negative integer up to 2^53 - 1. */
  private varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** uint32, uint64, or a non-negative int32/int64/enum; nothing when 0. */
  uint(field: number, v: number): void {
    if (v === 0) return;
    if (!Number.isSafeInteger(v) || v < 0) throw badObject(`field ${field}: ${v} is not a non-negative integer`);
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** int32 or int64; a negative value takes ten bytes (two's complement), as protobuf writes it. */
  int(field: number, v: number): void {
    if (v >= 0) return this.uint(field, v);
    if (!Number.isSafeInteger(v)) throw badObject(`field ${field}: ${v} is not an integer`);
    this.tag(field, WIRE_VARINT);
    let rest = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (rest >= 0x80n) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
  }

  bool(field: number, v: boolean): void {
    if (v) this.uint(field, 1);
  }

  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.tag(field, WIRE_DELIMITED);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string as UTF-8; one with a lone surrogate (which UTF-8 cannot hold) is refused. */
  string(field: number, s: string): void {
    if (s === '') return;
    if (!isWellFormedText(s)) throw badObject(`field ${field}: ${JSON.stringify(s)} is not valid Unicode (a lone surrogate)`);
    const len = Buffer.byteLength(s, 'utf8');
    this.tag(field, WIRE_DELIMITED);
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * A nested message that `body` writes. An empty one is left out unless
   * `always` (a present message with every field at its default).
   */
  message(field: number, body: () => void, always = false): void {
    this.tag(field, WIRE_DELIMITED);
    // One byte for the length, which most messages need; moved along when it takes more.
    this.ensure(1);
    const at = this.pos++;
    body();
    const len = this.pos - at - 1;
    if (len === 0 && !always) {
      // Take back the tag too: it is the byte or bytes before `at`.
      this.pos = at - varintLength(field * 8 + WIRE_DELIMITED);
      return;
    }
    const extra = varintLength(len) - 1;
    if (extra > 0) {
      this.ensure(extra);
      this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
      this.pos += extra;
    }
    let v = len;
    let p = at;
    while (v >= 0x80) {
      this.buf[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[p] = v;
  }

  /** The bytes written, in a buffer of their own. */
  finish(): Uint8Array {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** How a field is read: a scalar type, or the schema of a nested message. */
export type FieldType = 'string' | 'bytes' | 'uint32' | 'uint64' | 'int32' | 'int64' | 'bool' | Schema;

/** A message's fields by number: [property name, type, repeated]. */
export type Schema = Record<number, readonly [name: string, type: FieldType, repeated?: 'repeated']>;

/** A decoded message: properties present only for the fields the bytes hold; repeated fields as arrays. */
export type Message = Record<string, unknown>;

/**
 * Reads one message of `schema` from `bytes`. It refuses what is not a
 * valid protobuf message of that schema: truncated fields, wrong wire
 * types, unknown fields, strings that are not UTF-8, integers out of their
 * type's range (or past 2^53 - 1, where trove's numbers end). Order,
 * defaults and varint length are not checked here: the codec re-encodes
 * and compares.
 */
export function readMessage(bytes: Uint8Array, schema: Schema, what: string): Message {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = { pos: 0 };
  return readFields(buf, r, buf.length, schema, what);
}

function invalid(what: string, detail: string): Error {
  return badObject(`${what} is not a valid protobuf message: ${detail}`);
}

/** A varint as its low and high 32 bits. */
function varint64(buf: Buffer, r: { pos: number }, end: number, what: string): [lo: number, hi: number] {
  let lo = 0;
  let hi = 0;
  for (let n = 0; n < 10; n++) {
    if (r.pos >= end) throw invalid(what, 'a varint runs past its end');
    const b = buf[r.pos++]!;
    if (n < 4) lo += (b & 0x7f) * 2 ** (7 * n);
    else if (n === 4) {
      lo += (b & 0x0f) * 2 ** 28;
      hi += (b & 0x7f) >>> 4;
    } else hi += (b & 0x7f) * 2 ** (7 * n - 32);
    if ((b & 0x80) === 0) return [lo, hi % TWO_32];
  }
  throw invalid(what, 'a varint longer than 10 bytes');
}

function readFields(buf: Buffer, r: { pos: number }, end: number, schema: Schema, what: string): Message {
  const out: Message = {};
  while (r.pos < end) {
    const [tag, tagHi] = varint64(buf, r, end, what);
    const field = tag >>> 3;
    const wire = tag & 7;
    const spec = schema[field];
    if (tagHi !== 0 || !spec) throw badObject(`${what} is not canonically encoded (unsorted, duplicate, default or unknown fields): unknown field ${field}`);
    const [name, type, repeated] = spec;
    const delimited = typeof type === 'object' || type === 'string' || type === 'bytes';
    if (wire !== (delimited ? WIRE_DELIMITED : WIRE_VARINT)) throw invalid(what, `field ${field} has wire type ${wire}`);
    let value: unknown;
    if (delimited) {
      const [len, lenHi] = varint64(buf, r, end, what);
      if (lenHi !== 0 || len > end - r.pos) throw invalid(what, `field ${field} runs past its end`);
      const stop = r.pos + len;
      if (typeof type === 'object') value = readFields(buf, r, stop, type, what);
      else if (type === 'string') {
        if (!isUtf8(buf.subarray(r.pos, stop))) throw badObject(`${what}: field ${field} is not valid UTF-8`);
        value = buf.toString('utf8', r.pos, stop);
      } else value = new Uint8Array(buf.subarray(r.pos, stop));
      r.pos = stop;
    } else value = scalar(varint64(buf, r, end, what), type, field, what);
    if (repeated) ((out[name] ??= []) as unknown[]).push(value);
    else out[name] = value;
  }
  return out;
}

function scalar([lo, hi]: [number, number], type: 'uint32' | 'uint64' | 'int32' | 'int64' | 'bool', field: number, what: string): number | boolean {
  const range = () => badObject(`${what}: field ${field} is out of range for ${type}`);
  switch (type) {
    case 'bool':
      if (hi !== 0 || lo > 1) throw range();
      return lo === 1;
    case 'uint32':
      if (hi !== 0) throw range();
      return lo;
    case 'int32':
      // Negative int32 values are written sign-extended to 64 bits.
      if (hi === 0 && lo < 0x8000_0000) return lo;
      if (hi === 0xffff_ffff && lo >= 0x8000_0000) return lo - TWO_32;
      throw range();
    case 'uint64':
    case 'int64': {
      if (type === 'int64' && hi >= 0x8000_0000) {
        const v = (hi - TWO_32) * TWO_32 + lo;
        if (!Number.isSafeInteger(v)) throw range();
        return v;
      }
      const v = hi * TWO_32 + lo;
      if (!Number.isSafeInteger(v)) throw range();
      return v;
    }
  }
}
