/**
 * Slows down an address that keeps sending bad credentials: after `burst` failures within
 * `windowMs`, its further failures are answered 429 (with how long to wait) until the window
 * passes. Only failures count and only failures are refused: a sender with good credentials, from
 * any address, is never slowed. At most `maxAddresses` are tracked (the oldest dropped first), so
 * memory stays bounded whatever the addresses.
 */
export class FailureThrottle {
  private readonly seen = new Map<string, { first: number; failures: number }>();

  constructor(
    private readonly opts: { burst: number; windowMs: number; maxAddresses: number },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a failure from `address`; returns the seconds it should wait when it is past the burst,
   * undefined while it is not (the failure is then answered as usual). `first` is true for the
   * first failure past the burst, so the caller logs it once.
   */
  fail(address: string): { retryAfterS: number; first: boolean } | undefined {
    const t = this.now();
    let entry = this.seen.get(address);
    if (!entry || t - entry.first >= this.opts.windowMs) {
      this.seen.delete(address);
      entry = { first: t, failures: 0 };
      for (const old of this.seen.keys()) {
        if (this.seen.size < this.opts.maxAddresses) break;
        this.seen.delete(old);
      }
      this.seen.set(address, entry);
    }
    entry.failures++;
    if (entry.failures <= this.opts.burst) return undefined;
    return { retryAfterS: Math.max(1, Math.ceil((entry.first + this.opts.windowMs - t) / 1000)), first: entry.failures === this.opts.burst + 1 };
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.seen.size;
  }
}
