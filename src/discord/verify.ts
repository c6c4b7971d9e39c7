import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../model.js';

/** How far a signed timestamp may be from our clock before the request is refused (replays). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

/** The headers Discord signs an interaction request with. */
export const SIGNATURE_HEADER = 'x-signature-ed25519';
/** The header carrying the unix-seconds timestamp that is part of the signed message. */
export const TIMESTAMP_HEADER = 'x-signature-timestamp';

/** Outcome of a signature check; `reason` is short and safe to send back in a 401. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** A header as node:http gives it. */
type HeaderValue = string | string[] | undefined;

/** Turns the application's public key (64 hex characters, from the Developer Portal) into a KeyObject. */
export function publicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('expected an Ed25519 public key of 64 hex characters');
  const x = Buffer.from(hex, 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Creates a checker of Discord's interaction signatures: Ed25519 over `timestamp + rawBody`,
 * refusing timestamps more than five minutes away from `now` (a replayed request).
 */
export function createVerifier(publicKeyHex: string, now: Clock = () => new Date()) {
  const key = publicKeyFromHex(publicKeyHex);
  return function verifyRequest(headers: Record<string, HeaderValue>, rawBody: Buffer): VerifyResult {
    const signature = single(headers[SIGNATURE_HEADER]);
    const timestamp = single(headers[TIMESTAMP_HEADER]);
    if (!signature) return { ok: false, reason: 'missing X-Signature-Ed25519 header' };
    if (!timestamp) return { ok: false, reason: 'missing X-Signature-Timestamp header' };
    if (!/^[0-9a-fA-F]{128}$/.test(signature)) return { ok: false, reason: 'malformed signature: expected 128 hex characters' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp: expected unix seconds' };
    const skew = now().getTime() - Number(timestamp) * 1000;
    if (skew > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'timestamp too old' };
    if (skew < -MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'timestamp in the future' };
    const message = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
    const valid = verify(null, message, key, Buffer.from(signature, 'hex'));
    return valid ? { ok: true } : { ok: false, reason: 'invalid request signature' };
  };
}

/** A request checker as createVerifier returns it. */
export type Verifier = ReturnType<typeof createVerifier>;
