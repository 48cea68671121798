import type { IncomingMessage } from 'node:http';
import { PayloadTooLarge } from './errors';

/**
 * Reads a request body up to `limit` bytes. Over the limit it stops reading
 * and throws `tooLarge()` (PayloadTooLarge by default).
 */
export function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error = () => new PayloadTooLarge(limit)): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => failed || resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', (e) => failed || reject(e));
  });
}
