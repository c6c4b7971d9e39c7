import { createRequire } from 'node:module';
import type * as Rest from '@discordjs/rest';

// @discordjs/rest, loaded here only (the dependency rules keep it so), as its CommonJS build: one
// copy of its classes, so the errors REST throws are `instanceof` the classes delivery checks.
const rest = createRequire(import.meta.url)('@discordjs/rest') as typeof Rest;

/** Discord's REST client from discord.js's family (rate-limit buckets, retries), as @discordjs/rest exports it. */
export const REST = rest.REST;
/** An instance of {@link REST}. */
export type REST = Rest.REST;
/** An error answer from Discord's API (4xx/5xx with a JSON body). */
export const DiscordAPIError = rest.DiscordAPIError;
/** An instance of {@link DiscordAPIError}. */
export type DiscordAPIError = Rest.DiscordAPIError;
/** A non-JSON error answer (a proxy's 502 page). */
export const HTTPError = rest.HTTPError;
/** An instance of {@link HTTPError}. */
export type HTTPError = Rest.HTTPError;
/** A rate limit REST would have waited out, thrown instead (`rejectOnRateLimit`). */
export const RateLimitError = rest.RateLimitError;
/** An instance of {@link RateLimitError}. */
export type RateLimitError = Rest.RateLimitError;
export type { RateLimitData, RequestData, RESTOptions, RouteLike } from '@discordjs/rest';
