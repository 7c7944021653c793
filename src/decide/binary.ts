/**
 * Finding binary values (Buffer, ArrayBuffer, typed arrays) in event arguments, without recursion:
 * a hostile packet nested 10,000 levels deep must not exhaust the stack. The walk visits each
 * value once, and the values were decoded from at most `maxPayload` bytes, so it is bounded by the
 * size check that runs before it.
 */

/** True for what Socket.IO sends as a binary attachment. */
export function isBinaryValue(value: unknown): value is ArrayBufferView | ArrayBuffer {
  return (
    typeof value === "object" && value !== null && (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
  );
}

/** Bytes of a binary value. */
export function binaryByteLength(value: ArrayBufferView | ArrayBuffer): number {
  return value.byteLength;
}

// One stack for every walk: the walk is synchronous, so two never interleave.
const pending: unknown[] = [];

/**
 * True when `value` is, or contains at any depth, a binary value.
 *
 * @example
 * containsBinary({ file: Buffer.from("x") }); // true
 * containsBinary([[["deep"]]]);               // false
 */
export function containsBinary(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  pending.length = 0;
  pending.push(value);
  try {
    while (pending.length > 0) {
      const current = pending.pop();
      if (isBinaryValue(current)) return true;
      if (Array.isArray(current)) {
        for (let i = 0; i < current.length; i++) {
          const item: unknown = current[i];
          if (typeof item === "object" && item !== null) pending.push(item);
        }
      } else if (typeof current === "object" && current !== null) {
        const record = current as Record<string, unknown>;
        for (const key in record) {
          if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
          const item = record[key];
          if (typeof item === "object" && item !== null) pending.push(item);
        }
      }
    }
    return false;
  } finally {
    pending.length = 0;
  }
}
