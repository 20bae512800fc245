/**
 * Number text at the edges, in one place: the powers of ten both the JSON number reader (io/wire) and the line
 * writers (io/influx) compute with, and the texts a message's numbers arrived as, which the raw line copies rather
 * than formatting the doubles again.
 */

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Bytes a number written at the edges takes at most (sign, 21 digits or a shortest round-trip text, point). */
export const NUMBER_BYTES = 32;

/**
 * The text a number of the message being decoded arrived as (a JSON number in plain decimal notation, which reads
 * back to exactly that number). The raw line of that message's sample copies it rather than formatting the double
 * again; any other number with the same value may use it too, being the same double.
 */
export interface ArrivedText {
  value: number;
  length: number;
  readonly bytes: Uint8Array;
}
const arrivedText = (): ArrivedText => ({ value: NaN, length: 0, bytes: new Uint8Array(NUMBER_BYTES) });

/**
 * The texts of the last decoded message's voltage and current: written by the decoder (io/wire), read by the line
 * writer (io/influx). One per live input, made by the pipeline that wires the two: no state hidden in a module.
 */
export interface ArrivedNumbers {
  readonly voltage: ArrivedText;
  readonly current: ArrivedText;
}

export function arrivedNumbers(): ArrivedNumbers {
  return { voltage: arrivedText(), current: arrivedText() };
}

/**
 * Keep `src[start, end)` as the text of `value`, when it is plain decimal notation of at most 32 bytes; trailing
 * zeros of a fraction are dropped (`2.0` → `2`, `0.0710` → `0.071`), as JavaScript would write the number.
 */
export function rememberArrivedText(t: ArrivedText, value: number, src: Uint8Array, start: number, end: number): void {
  t.length = 0;
  if (end - start > NUMBER_BYTES) return;
  let point = -1;
  for (let k = start; k < end; k++) {
    const c = src[k]!;
    if (c === 0x2e) point = k - start;
    else if (!((c >= 0x30 && c <= 0x39) || (c === 0x2d && k === start))) return;
    t.bytes[k - start] = c;
  }
  let length = end - start;
  if (point >= 0) {
    while (t.bytes[length - 1] === 0x30) length--;
    if (length - 1 === point) length--;
  }
  t.value = value;
  t.length = length;
}
