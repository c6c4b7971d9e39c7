import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../src/webhooks/throttle.js';

describe('FailureThrottle', () => {
  it('lets a burst of failures through, then asks the address to wait out the rest of its window', () => {
    let t = 0;
    const throttle = new FailureThrottle({ burst: 3, windowMs: 60_000, maxAddresses: 100 }, () => t);
    for (let i = 0; i < 3; i++) expect(throttle.fail('10.0.0.1')).toBeUndefined();
    t = 15_000;
    expect(throttle.fail('10.0.0.1')).toEqual({ retryAfterS: 45, first: true });
    expect(throttle.fail('10.0.0.1')).toEqual({ retryAfterS: 45, first: false });
    // Another address has its own count.
    expect(throttle.fail('10.0.0.2')).toBeUndefined();
    // A new window: a new burst.
    t = 60_000;
    expect(throttle.fail('10.0.0.1')).toBeUndefined();
  });

  it.each([1, 10, 500])('tracks at most %i addresses however many fail', (max) => {
    const throttle = new FailureThrottle({ burst: 1, windowMs: 60_000, maxAddresses: max }, () => 0);
    for (let i = 0; i < max * 3; i++) throttle.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.size).toBe(max);
  });
});
