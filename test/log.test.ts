// The process logger: a failed Discord request's error, logged as `err`, carries its URL and body;
// an interaction's token sits in that URL and must never reach a log line.
import { describe, expect, it } from 'vitest';
import { DiscordAPIError } from '../src/discord/djs.js';
import { createLogger } from '../src/log.js';

describe('the logger', () => {
  it("redacts a Discord error's URL and request body, where an interaction token travels", () => {
    const token = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OmludGVyYWN0aW9uLXRva2Vu';
    const url = `https://discord.com/api/v10/webhooks/123456789012345678/${token}/messages/@original`;
    const err = new DiscordAPIError({ message: 'Unknown Webhook', code: 10015 }, 10015, 404, 'PATCH', url, { body: { content: 'x' } });
    const lines: string[] = [];
    createLogger({ level: 'info' }, { write: (s: string) => void lines.push(s) }).warn({ err }, 'follow-up failed');
    expect(lines).toHaveLength(1);
    const logged = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(logged.err.url).toBe('[redacted]');
    expect(logged.err.requestBody).toBe('[redacted]');
    expect(logged.err.message).toBe('Unknown Webhook');
    expect(lines[0]).not.toContain(token);
  });
});
