/**
 * The CBOR (RFC 8949) that Smithy RPCv2 requests and answers use: maps,
 * arrays, text and byte strings, integers, floats, booleans, null, and tag 1
 * (epoch-seconds timestamps). Indefinite lengths are read; definite ones written.
 */
export class CborError extends Error {}

/** A tagged value to write, e.g. new Tagged(1, seconds) for a timestamp. */
export class Tagged {
  constructor(readonly tag: number, readonly value: unknown) {}
}

export function decodeCbor(buf: Uint8Array): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new CborError('truncated CBOR');
  };
  const argument = (info: number): number => {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (!size) throw new CborError(`bad CBOR additional info ${info}`);
    need(size);
    let v: number;
    if (size === 1) v = view.getUint8(pos);
    else if (size === 2) v = view.getUint16(pos);
    else if (size === 4) v = view.getUint32(pos);
    else v = Number(view.getBigUint64(pos));
    pos += size;
    return v;
  };
  const BREAK = Symbol('break');
  const item = (): unknown => {
    need(1);
    const head = buf[pos++]!;
    const major = head >> 5;
    const info = head & 31;
    if (info === 31 && major >= 2 && major <= 5) return indefinite(major);
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22 || info === 23) return null;
      if (info === 25) {
        need(2);
        const h = view.getUint16(pos);
        pos += 2;
        return half(h);
      }
      if (info === 26) {
        need(4);
        const v = view.getFloat32(pos);
        pos += 4;
        return v;
      }
      if (info === 27) {
        need(8);
        const v = view.getFloat64(pos);
        pos += 8;
        return v;
      }
      if (info === 31) return BREAK;
      throw new CborError(`unsupported CBOR simple value ${info}`);
    }
    const n = argument(info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
        need(n);
        pos += n;
        return new Uint8Array(buf.subarray(pos - n, pos)); // a copy, plain Uint8Array
      case 3:
        need(n);
        pos += n;
        return Buffer.from(buf.buffer, buf.byteOffset + pos - n, n).toString('utf8');
      case 4:
        return Array.from({ length: n }, () => item());
      case 5: {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) o[String(item())] = item();
        return o;
      }
      default:
        return item(); // tag n: the value itself (tag 1 timestamps stay epoch seconds)
    }
  };
  const indefinite = (major: number): unknown => {
    if (major === 2 || major === 3) {
      const parts: Buffer[] = [];
      for (let v = item(); v !== BREAK; v = item()) parts.push(typeof v === 'string' ? Buffer.from(v) : Buffer.from(v as Uint8Array));
      return major === 3 ? Buffer.concat(parts).toString('utf8') : new Uint8Array(Buffer.concat(parts));
    }
    if (major === 4) {
      const a: unknown[] = [];
      for (let v = item(); v !== BREAK; v = item()) a.push(v);
      return a;
    }
    const o: Record<string, unknown> = {};
    for (let k = item(); k !== BREAK; k = item()) o[String(k)] = item();
    return o;
  };
  if (buf.length === 0) return {};
  const v = item();
  if (pos !== buf.length) throw new CborError('trailing bytes after CBOR item');
  return v;
}

function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function encodeCbor(value: unknown): Buffer {
  const out: Buffer[] = [];
  const head = (major: number, n: number): void => {
    if (n < 24) out.push(Buffer.from([(major << 5) | n]));
    else if (n < 0x100) out.push(Buffer.from([(major << 5) | 24, n]));
    else if (n < 0x10000) {
      const b = Buffer.alloc(3);
      b[0] = (major << 5) | 25;
      b.writeUInt16BE(n, 1);
      out.push(b);
    } else if (n < 0x100000000) {
      const b = Buffer.alloc(5);
      b[0] = (major << 5) | 26;
      b.writeUInt32BE(n, 1);
      out.push(b);
    } else {
      const b = Buffer.alloc(9);
      b[0] = (major << 5) | 27;
      b.writeBigUInt64BE(BigInt(n), 1);
      out.push(b);
    }
  };
  const write = (v: unknown): void => {
    if (v === null || v === undefined) out.push(Buffer.from([0xf6]));
    else if (v === false) out.push(Buffer.from([0xf4]));
    else if (v === true) out.push(Buffer.from([0xf5]));
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) head(v >= 0 ? 0 : 1, v >= 0 ? v : -1 - v);
      else {
        const b = Buffer.alloc(9);
        b[0] = 0xfb;
        b.writeDoubleBE(v, 1);
        out.push(b);
      }
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      head(3, b.length);
      out.push(b);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      out.push(Buffer.from(v));
    } else if (v instanceof Tagged) {
      head(6, v.tag);
      write(v.value);
    } else if (Array.isArray(v)) {
      head(4, v.length);
      v.forEach(write);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      head(5, entries.length);
      for (const [k, x] of entries) {
        write(k);
        write(x);
      }
    } else throw new CborError(`cannot encode ${typeof v} as CBOR`);
  };
  write(value);
  return Buffer.concat(out);
}
