// Any text fits every Discord limit and never splits a code point: truncate() and fitMessage() over
// generated text (astral code points, emoji sequences, Hangul, lone surrogates as a sender may send).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointLength, ELLIPSIS, fitMessage, truncate, truncateCodeBlock } from '../../src/render/truncate.js';
import { LOCALES } from '../../src/i18n/index.js';
import { limitViolations } from '../render/helpers.js';

const RUNS = 300;
/** Text as senders write it: any code point, emoji with joiners and skin tones, Hangul, and now and then a lone surrogate. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('👩‍💻', '🇰🇷', '👍🏽', '한', '글', 'e\u0301', 'a', ' ', '\n', '`'), maxLength: 400 }),
  fc.string({ unit: fc.oneof(fc.constantFrom('\ud83d', '\ude00', 'x'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 200 }),
);

/** Whether `kept`, a prefix of `input`, ends between the two halves of one of its surrogate pairs. */
function endsMidPair(kept: string, input: string): boolean {
  const last = kept.charCodeAt(kept.length - 1);
  const next = input.charCodeAt(kept.length);
  return last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
}

describe('Discord limit fitting (property)', () => {
  it('truncate() keeps any text within the limit, whole when it fits, else a prefix marked with …, never splitting a pair', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 500 }), (s, max) => {
        const out = truncate(s, max);
        expect(codePointLength(out)).toBeLessThanOrEqual(max);
        if (codePointLength(s) <= max) expect(out).toBe(s);
        else {
          expect(out.endsWith(ELLIPSIS)).toBe(true);
          expect(s.startsWith(out.slice(0, -ELLIPSIS.length))).toBe(true);
          expect(endsMidPair(out.slice(0, -ELLIPSIS.length), s)).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('truncateCodeBlock() keeps the block closed and within the limit', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 20, max: 600 }), (before, code, max) => {
        const out = truncateCodeBlock(`${before}\n\`\`\`\n${code}\n\`\`\``, max);
        expect(codePointLength(out)).toBeLessThanOrEqual(max);
        // An odd number of fences would leave a block open and swallow the rest of the message.
        if (!before.includes('```') && !code.includes('```')) expect((out.match(/```/g) ?? []).length % 2).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('fitMessage() brings any message within every limit of Discord, in every language', () => {
    const field = fc.record({ name: text, value: text, inline: fc.boolean() });
    const embed = fc.record(
      {
        title: text.map((t) => t.repeat(3)),
        description: text.map((t) => t.repeat(20)),
        fields: fc.array(field, { maxLength: 30 }),
        footer: fc.record({ text: text.map((t) => t.repeat(8)) }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.record({ content: text.map((t) => t.repeat(8)), embeds: fc.array(embed, { maxLength: 12 }) }, { requiredKeys: [] }),
        fc.constantFrom(...LOCALES),
        (body, locale) => {
          // The note naming the fields it left out is in the message's language: each must fit.
          const fitted = fitMessage(structuredClone(body), () => undefined, locale);
          expect(limitViolations(fitted)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
