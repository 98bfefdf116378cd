/**
 * The record framing of spool segments (pure):
 *
 *   u32 BE payload length | u32 BE CRC-32 of (time + payload) | i64 BE append time (ms) | payload
 *
 * A crash can leave the last frame of the last segment short or with a wrong
 * checksum (a torn write); `parseFrame` tells those apart from a complete frame.
 */
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_SIZE = 16;
/** Upper bound of one payload; anything larger in a length field is damage. */
export const MAX_FRAME_PAYLOAD = 16 * 1024 * 1024;

export function encodeFrame(payload: Buffer, appendTime: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  writeFrame(frame, 0, payload, appendTime);
  return frame;
}

/**
 * Writes the frame of `payload` into `target` at `pos` (FRAME_HEADER_SIZE +
 * payload.length bytes must fit there): the bytes `encodeFrame` returns,
 * without a buffer of their own. Returns the end of the frame.
 */
export function writeFrame(
  target: Buffer,
  pos: number,
  payload: Buffer,
  appendTime: number,
): number {
  const end = pos + FRAME_HEADER_SIZE + payload.length;
  target.writeUInt32BE(payload.length, pos);
  // the i64 as two 32-bit halves: the same bytes as writeBigInt64BE without a BigInt per frame
  const high = Math.floor(appendTime / 0x1_0000_0000);
  target.writeInt32BE(high, pos + 8);
  target.writeUInt32BE(appendTime - high * 0x1_0000_0000, pos + 12);
  payload.copy(target, pos + FRAME_HEADER_SIZE);
  target.writeUInt32BE(crc32(target.subarray(pos + 8, end)), pos + 4);
  return end;
}

export type ParsedFrame =
  | { kind: 'frame'; appendTime: number; payload: Buffer; end: number }
  /** Not enough bytes for the frame the header announces (or for a header). */
  | { kind: 'incomplete'; needed: number }
  /** The bytes at `pos` are not a valid frame. */
  | { kind: 'bad'; reason: string; end: number };

export function parseFrame(buf: Buffer, pos: number): ParsedFrame {
  if (buf.length - pos < FRAME_HEADER_SIZE)
    return { kind: 'incomplete', needed: FRAME_HEADER_SIZE };
  const length = buf.readUInt32BE(pos);
  if (length > MAX_FRAME_PAYLOAD)
    return { kind: 'bad', reason: `length ${length} exceeds the frame limit`, end: buf.length };
  const end = pos + FRAME_HEADER_SIZE + length;
  if (end > buf.length) return { kind: 'incomplete', needed: FRAME_HEADER_SIZE + length };
  const expected = buf.readUInt32BE(pos + 4);
  if (crc32(buf.subarray(pos + 8, end)) !== expected)
    return { kind: 'bad', reason: 'checksum mismatch', end };
  return {
    kind: 'frame',
    appendTime: Number(buf.readBigInt64BE(pos + 8)),
    payload: buf.subarray(pos + FRAME_HEADER_SIZE, end),
    end,
  };
}

/**
 * True when every byte from `pos` to the end is zero: what a crash can leave when
 * the file size reached the disk before the data did. Such a tail is torn, not damaged.
 */
export function isZeroTail(buf: Buffer, pos: number): boolean {
  for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
