/**
 * HTTP to one serving container: GET /ping and POST /invocations over an
 * undici Pool with keep-alive connections. Responses are collected as the
 * Buffers undici delivers (no copy when the body arrives in one chunk); no
 * stream objects are created per request.
 */
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ConnectionFailedError, InvocationTimeoutError } from './errors';

export interface Address {
  host: string;
  port: number;
}

export interface InvokeRequest {
  /** A Buffer goes with Content-Length; a stream goes with chunked transfer encoding (batch transform, MaxPayloadInMB 0). */
  body: Buffer | Readable;
  /** Lower-case header names; only what the container should see. */
  headers: Record<string, string>;
  /** Time allowed until the response headers, and between body chunks. */
  timeoutMs: number;
}

export interface InvokeResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface InstanceClientOptions {
  /** Most connections kept to the container (default 64). */
  connections?: number;
  /** Idle keep-alive connections are closed after this (default 60 s). */
  keepAliveMs?: number;
  /** TCP connect timeout (default 2 s; the contract asks containers to accept within 250 ms). */
  connectTimeoutMs?: number;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class InstanceClient {
  private readonly pool: Pool;
  private closed = false;

  constructor(readonly address: Address, opts: InstanceClientOptions = {}) {
    const keepAlive = opts.keepAliveMs ?? 60_000;
    this.pool = new Pool(`http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, {
      connections: opts.connections ?? 64,
      pipelining: 1,
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      connect: { timeout: opts.connectTimeoutMs ?? 2000 },
    });
  }

  /** GET /ping; resolves with the status code, rejects when no answer came within timeoutMs. */
  async ping(timeoutMs = 2000): Promise<number> {
    const res = await this.send({ path: '/ping', method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs }, timeoutMs);
    return res.statusCode;
  }

  /** GET of another path (batch transform's /execution-parameters); rejects like invoke. */
  get(path: string, timeoutMs: number): Promise<InvokeResponse> {
    return this.send({ path, method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs }, timeoutMs);
  }

  /**
   * POST /invocations. Rejects with InvocationTimeoutError when the container
   * does not answer in time, ConnectionFailedError when the connection fails.
   */
  invoke(req: InvokeRequest): Promise<InvokeResponse> {
    return this.send({ path: '/invocations', method: 'POST', body: req.body, headers: req.headers, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs }, req.timeoutMs);
  }

  private send(opts: Dispatcher.DispatchOptions, timeoutMs: number): Promise<InvokeResponse> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new ConnectionFailedError('UND_ERR_DESTROYED', 'the client of this instance is closed', true));
        return;
      }
      let statusCode = 0;
      let headers: InvokeResponse['headers'] = {};
      let started = false;
      const chunks: Buffer[] = [];
      let size = 0;
      this.pool.dispatch(opts, {
        onRequestStart() {},
        onResponseStart(_controller, status, h) {
          started = true;
          statusCode = status;
          headers = h;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
          size += chunk.length;
        },
        onResponseEnd() {
          resolve({ statusCode, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
        },
        onResponseError(_controller, err) {
          reject(classify(err, started, timeoutMs));
        },
      });
    });
  }

  /** Closes the connections at once (requests in flight fail). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy().catch(() => undefined);
  }
}

function classify(err: Error, responseStarted: boolean, timeoutMs: number): Error {
  const code = (err as { code?: string }).code ?? '';
  if (TIMEOUT_CODES.has(code)) return new InvocationTimeoutError(timeoutMs);
  if (CONNECTION_CODES.has(code) || err.name === 'SocketError') {
    return new ConnectionFailedError(code || err.name, err.message, !responseStarted);
  }
  return err;
}
