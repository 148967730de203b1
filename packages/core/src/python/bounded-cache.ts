/**
 * A map that forgets entries not used for a while: core's passes remember what they made from a
 * cell's text (analyses, code units, plain-Python conversions) so that an editor's re-check after
 * an edit redoes only what the edit changed. Two generations: an entry used while the current one
 * fills up is carried into it; when it is full, the older generation, with every entry not used
 * since it was current, is dropped. Values must be plain data nothing changes.
 */
export class BoundedCache<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  /** `limit` entries per generation: at most twice as many are kept. */
  constructor(private readonly limit: number) {}

  /** The value for `key`, made by `make` the first time (or again after it was forgotten). */
  get(key: string, make: () => V): V {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const value = this.previous.get(key) ?? make();
    this.current.set(key, value);
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
    }
    return value;
  }
}
