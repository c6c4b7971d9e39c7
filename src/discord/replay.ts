/**
 * Interaction ids seen recently, so that a signed interaction delivered twice (a replay, or a proxy
 * retrying) is handled once. Kept for `ttlMs` (the signature window both ways: an older replay
 * already fails the timestamp check) and at most `max` ids, oldest dropped first: memory stays bounded
 * whatever arrives.
 */
export class SeenIds {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time `id` is seen within the window (it is remembered); false for a repeat. */
  first(id: string): boolean {
    const t = this.now();
    // Insertion order is age order: drop from the front what expired.
    for (const [old, at] of this.ids) {
      if (t - at < this.ttlMs) break;
      this.ids.delete(old);
    }
    if (this.ids.has(id)) return false;
    // Room for the newcomer: the oldest go first.
    for (const old of this.ids.keys()) {
      if (this.ids.size < this.max) break;
      this.ids.delete(old);
    }
    this.ids.set(id, t);
    return true;
  }

  /** Ids remembered now. */
  get size(): number {
    return this.ids.size;
  }
}
