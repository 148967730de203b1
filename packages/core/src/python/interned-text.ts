/**
 * Short texts (names, mostly) as one string each: the analysis reads a notebook's few thousand
 * names some tens of thousands of times, and slicing each out of its cell made a string every
 * time, which the maps and sets keyed by names then hashed again. A text is found in an
 * open-addressing table by a hash of its characters, compared in place, so a text seen before
 * makes no string. The table is emptied when it fills; strings it handed out stay valid.
 */

/** Texts longer than this are sliced as they are: they are rarely names. */
const MAX_INTERNED_LENGTH = 48;
/** Slots in the table (a power of two); it is emptied when half of them are taken. */
const SLOTS = 1 << 15;
const MASK = SLOTS - 1;

let texts: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
let hashes = new Int32Array(SLOTS);
let taken = 0;

/** `source.slice(from, to)`, the same string for the same text while it is remembered. */
export function internedSlice(source: string, from: number, to: number): string {
  const length = to - from;
  if (length > MAX_INTERNED_LENGTH || length <= 0) return source.slice(from, to);
  let hash = length;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ source.charCodeAt(i), 0x01000193);
  for (let slot = hash & MASK; ; slot = (slot + 1) & MASK) {
    const text = texts[slot];
    if (text === undefined) {
      if (taken >= SLOTS / 2) {
        texts = new Array<string | undefined>(SLOTS).fill(undefined);
        hashes = new Int32Array(SLOTS);
        taken = 0;
        return internedSlice(source, from, to);
      }
      const made = source.slice(from, to);
      texts[slot] = made;
      hashes[slot] = hash;
      taken++;
      return made;
    }
    if (hashes[slot] === hash && text.length === length && source.startsWith(text, from))
      return text;
  }
}
