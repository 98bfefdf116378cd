/**
 * A writable over an HTTP response that keeps the response's backpressure
 * (a write waits for `drain`), fails when the client goes away, and adds the
 * trailers, computed when the export has ended, before it ends the response.
 */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

const gone = (): Error =>
  Object.assign(new Error('the client closed the connection'), { name: 'AbortError' });

export class ResponseSink extends Writable {
  readonly #res: ServerResponse;
  readonly #trailers: () => Record<string, string>;

  constructor(res: ServerResponse, trailers: () => Record<string, string>) {
    // text goes to the response as it is (UTF-8): the socket copies it out of
    // the heap, and no Buffer of it is left for the garbage collector
    super({ decodeStrings: false });
    this.#res = res;
    this.#trailers = trailers;
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error) => void,
  ): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return done(gone());
    if (res.write(chunk)) return done();
    const onDrain = (): void => {
      res.off('close', onClose);
      done();
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      done(gone());
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  }

  override _final(done: (error?: Error) => void): void {
    const res = this.#res;
    if (res.destroyed) return done(gone());
    res.addTrailers(this.#trailers());
    res.end(() => done());
  }
}
