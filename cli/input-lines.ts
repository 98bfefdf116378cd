/**
 * Lines of a byte stream, decoded strictly as UTF-8: a line that is not valid
 * UTF-8 is reported as such instead of being altered (U+FFFD). LF or CRLF end a
 * line; a UTF-8 byte order mark at the start of the stream is dropped.
 */
import { AuditErrorCode, ValidationError } from '../common/errors.js';

export type InputLine =
  { lineNumber: number; text: string } | { lineNumber: number; error: ValidationError };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export async function* utf8Lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<InputLine> {
  // ignoreBOM keeps U+FEFF: only the one at the start of the stream is dropped, below
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending = Buffer.alloc(0);
  let lineNumber = 0;
  const decode = (bytes: Buffer): InputLine => {
    lineNumber++;
    let body = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    if (lineNumber === 1 && body.subarray(0, 3).equals(BOM)) body = body.subarray(3);
    try {
      return { lineNumber, text: decoder.decode(body) };
    } catch (error) {
      // TextDecoder with fatal: true throws a TypeError on bytes that are not UTF-8
      if (!(error instanceof TypeError)) throw error;
      return {
        lineNumber,
        error: new ValidationError(AuditErrorCode.InvalidField, 'line', 'is not valid UTF-8'),
      };
    }
  };
  for await (const chunk of input) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    let start = 0;
    for (let end = pending.indexOf(0x0a); end >= 0; end = pending.indexOf(0x0a, start)) {
      yield decode(pending.subarray(start, end));
      start = end + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) yield decode(pending);
}
