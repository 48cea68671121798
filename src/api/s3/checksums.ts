/**
 * The additional checksums S3 accepts (x-amz-checksum-<algorithm>, in a
 * header or an aws-chunked trailer): CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
 * Each digest is sent base64-encoded, big-endian for the CRCs.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

export interface Checksum {
  update(chunk: Buffer): void;
  /** Base64 of the digest. */
  digest(): string;
}

/** The algorithm a header or trailer name like `x-amz-checksum-crc32c` stands for. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/i.exec(name.trim());
  const algo = m?.[1]?.toUpperCase();
  return CHECKSUM_ALGORITHMS.find((a) => a === algo);
}

export const headerOfAlgorithm = (a: ChecksumAlgorithm): string => `x-amz-checksum-${a.toLowerCase()}`;

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm.toLowerCase());
      return { update: (c) => void h.update(c), digest: () => h.digest('base64') };
    }
    case 'CRC32': {
      let v = 0;
      return { update: (c) => void (v = crc32(c, v)), digest: () => u32(v).toString('base64') };
    }
    case 'CRC32C': {
      let v = 0xffffffff;
      return {
        update: (c) => {
          let x = v;
          for (let i = 0; i < c.length; i++) x = CRC32C_TABLE[(x ^ c[i]!) & 0xff]! ^ (x >>> 8);
          v = x;
        },
        digest: () => u32((v ^ 0xffffffff) >>> 0).toString('base64'),
      };
    }
    case 'CRC64NVME': {
      // 64-bit reflected CRC kept as two 32-bit halves (BigInt per byte is far too slow).
      let lo = 0xffffffff;
      let hi = 0xffffffff;
      return {
        update: (c) => {
          let l = lo;
          let h = hi;
          for (let i = 0; i < c.length; i++) {
            const idx = (l ^ c[i]!) & 0xff;
            l = ((l >>> 8) | (h << 24)) ^ CRC64_LO[idx]!;
            h = (h >>> 8) ^ CRC64_HI[idx]!;
          }
          lo = l >>> 0;
          hi = h >>> 0;
        },
        digest: () => {
          const out = Buffer.alloc(8);
          out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
          out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
          return out.toString('base64');
        },
      };
    }
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5.
const [CRC64_LO, CRC64_HI] = (() => {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x9a6c9329;
  for (let n = 0; n < 256; n++) {
    let l = n;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const lsb = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (lsb) {
        l = (l ^ polyLo) >>> 0;
        h = (h ^ polyHi) >>> 0;
      }
    }
    lo[n] = l;
    hi[n] = h;
  }
  return [lo, hi] as const;
})();
