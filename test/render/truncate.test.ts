import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { EMBED_TOTAL, EMBED_URL } from '../../src/render/limits.js';
import {
  codePointLength,
  fitMessage,
  joinEmbeds,
  totalLength,
  truncate,
  truncateCodeBlock,
  type CutInfo,
  type MessageBody,
} from '../../src/render/truncate.js';
import { expectWithinLimits, LONE_SURROGATE, limitViolations, recorder, rng } from './helpers.js';

const FAMILY = '👨‍👩‍👧'; // 5 code points joined by ZWJ: one visible emoji

describe('codePointLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['😀', 1],
    [FAMILY, 5],
    ['é', 1],
    ['\uD800', 1], // a lone surrogate still counts as one
  ])('counts %j as %i code points', (text, n) => {
    expect(codePointLength(text)).toBe(n);
  });
});

describe('truncate', () => {
  it.each([
    ['hello', 10, 'hello'],
    ['hello', 5, 'hello'],
    ['hello world', 5, 'hell…'],
    ['hello world', 7, 'hello…'], // the space before the cut is dropped
    ['hello', 1, '…'],
    ['hello', 0, ''],
    ['hello', -3, ''],
    ['😀😀😀😀', 3, '😀😀…'],
    [`ab${FAMILY}cd`, 5, 'ab…'], // never half an emoji sequence
    ['🇩🇪🇫🇷🇮🇹', 4, '🇩🇪…'], // flags are pairs of regional indicators
    ['e\u0301e\u0301e\u0301', 4, 'e\u0301…'], // a combining accent stays with its letter
  ])('cuts %j to %i code points as %j', (text, max, out) => {
    expect(truncate(text, max)).toBe(out);
  });

  it('never leaves a lone surrogate, whatever the cut position', () => {
    const text = `a😀b${FAMILY}c𝒳𝒴𝒵d`;
    for (let max = 0; max <= codePointLength(text); max++) {
      const out = truncate(text, max);
      expect(codePointLength(out)).toBeLessThanOrEqual(max);
      expect(LONE_SURROGATE.test(out)).toBe(false);
    }
  });

  it('reports a cut with the lengths in code points, and only when it cuts', () => {
    const cuts: CutInfo[] = [];
    truncate('😀'.repeat(10), 4, (info) => cuts.push(info));
    truncate('short', 10, (info) => cuts.push(info));
    expect(cuts).toEqual([{ from: 10, to: 4, max: 4 }]);
  });
});

describe('truncateCodeBlock', () => {
  const block = (lines: string[]) => `Logs: 40 lines\n\`\`\`\n${lines.join('\n')}\n\`\`\``;
  const lines = Array.from({ length: 40 }, (_, i) => `08:00:${String(i).padStart(2, '0')} error number ${i}`);

  it('cuts inside the block at a line boundary and keeps the closing fence', () => {
    const out = truncateCodeBlock(block(lines), 200);
    expect(codePointLength(out)).toBeLessThanOrEqual(200);
    expect(out.startsWith('Logs: 40 lines\n```\n08:00:00 error number 0\n')).toBe(true);
    expect(out.endsWith('\n…\n```')).toBe(true);
    expect(out.match(/```/g)).toHaveLength(2);
  });

  it('keeps the text before the block when the block does not fit at all', () => {
    expect(truncateCodeBlock(block(lines), 18)).toBe('Logs: 40 lines');
  });

  it('cuts inside a single long line when there is no line break to cut at', () => {
    const out = truncateCodeBlock(`\`\`\`\n${'x'.repeat(500)}\n\`\`\``, 50);
    expect(out).toBe(`\`\`\`\n${'x'.repeat(41)}…\n\`\`\``);
  });

  it('behaves like truncate for text without a block', () => {
    expect(truncateCodeBlock('hello world', 7)).toBe('hello…');
  });

  it('reports one cut', () => {
    const cuts: CutInfo[] = [];
    truncateCodeBlock(block(lines), 200, (info) => cuts.push(info));
    expect(cuts).toHaveLength(1);
    expect(cuts[0]!.max).toBe(200);
  });
});

describe('fitMessage', () => {
  it('returns a body within the limits unchanged and does not warn', () => {
    const body = {
      content: 'hi',
      embeds: [{ title: 't', description: 'd', fields: [{ name: 'n', value: 'v', inline: true }], footer: { text: 'f' } }],
      allowed_mentions: { parse: [] },
    };
    const { warn, calls } = recorder();
    expect(fitMessage(body, warn, 'en')).toEqual(body);
    expect(calls).toEqual([]);
  });

  it('does not modify its input', () => {
    const body = { embeds: [{ description: 'x'.repeat(5000) }] };
    fitMessage(body, () => {}, 'en');
    expect(body.embeds[0]!.description).toHaveLength(5000);
  });

  it('cuts each part to its own limit and warns once per cut, naming the part', () => {
    const { warn, calls } = recorder();
    const out = fitMessage({ content: 'c'.repeat(2500), embeds: [{ title: 't'.repeat(300), fields: [{ name: 'n', value: 'v'.repeat(2000) }] }] }, warn, 'en');
    expect(out.content).toBe(`${'c'.repeat(1999)}…`);
    expect(out.embeds[0]!.title).toBe(`${'t'.repeat(255)}…`);
    expect(out.embeds[0]!.fields[0]!.value).toBe(`${'v'.repeat(1023)}…`);
    expect(calls.map((c) => c.details.part)).toEqual(['content', 'embeds[0].title', 'embeds[0].fields[0].value']);
    expect(calls[0]!.details).toMatchObject({ limit: 'MESSAGE_CONTENT', max: 2000, from: 2500, to: 2000 });
  });

  it('meets the 6000 total by shortening the longest parts first, leaving short ones alone', () => {
    const fields: APIEmbedField[] = [{ name: 'short', value: 'keep me' }, ...Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(1024) }))];
    const { warn, calls } = recorder();
    const out = fitMessage({ embeds: [{ title: 'Title', description: 'd'.repeat(4000), fields }] }, warn, 'en');
    const e = out.embeds[0]!;
    expect(totalLength(out.embeds)).toBeLessThanOrEqual(EMBED_TOTAL);
    expect(e.title).toBe('Title');
    expect(e.fields[0]).toEqual({ name: 'short', value: 'keep me' });
    expect(e.fields).toHaveLength(6);
    // Every long part ends up at the same level: none was cut more than the others.
    const longLengths = [e.description, ...e.fields.slice(1).map((f) => f.value)].map(codePointLength);
    expect(new Set(longLengths).size).toBe(1);
    expect(calls.every((c) => c.details.limit === 'EMBED_TOTAL')).toBe(true);
    expect(calls).toHaveLength(6);
  });

  it('drops fields last-first with a note when shortening alone would leave nothing readable', () => {
    // 51 long parts: an even share of 6000 would be ~117 characters each, too short to read.
    const fields = Array.from({ length: 25 }, (_, i) => ({ name: `${i}:${'n'.repeat(250)}`, value: `${i} `.repeat(500) }));
    const { warn, calls } = recorder();
    const out = fitMessage({ embeds: [{ description: 'x'.repeat(4096), fields }] }, warn, 'en');
    const kept = out.embeds[0]!.fields;
    expect(totalLength(out.embeds)).toBeLessThanOrEqual(EMBED_TOTAL);
    const note = kept.at(-1)!;
    const dropped = 25 - (kept.length - 1);
    expect(dropped).toBeGreaterThan(0);
    expect(note).toEqual({ name: '…', value: `+${dropped} more fields not shown (message size limit)` });
    expect(kept.slice(0, -1).map((f) => f.name.split(':')[0])).toEqual(fields.slice(0, kept.length - 1).map((_, i) => String(i)));
    expect(codePointLength(kept[0]!.value)).toBeGreaterThanOrEqual(150);
    expect(calls.filter((c) => c.msg.includes('dropped'))).toEqual([
      { msg: 'embed fields dropped to fit Discord limits', details: expect.objectContaining({ dropped }) },
    ]);
  });

  it('keeps 24 fields and a note when given more than 25', () => {
    const fields = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: 'v' }));
    const out = fitMessage({ embeds: [{ fields }] }, () => {}, 'en');
    expect(out.embeds[0]!.fields).toHaveLength(25);
    expect(out.embeds[0]!.fields[24]).toEqual({ name: '…', value: '+16 more fields not shown (message size limit)' });
  });

  it.each([
    ['en', '+16 more fields not shown (message size limit)'],
    ['ko', '+ 필드 16개 더 (메시지 크기 제한으로 생략)'],
  ] as const)('says in %s how many fields it left out', (locale, note) => {
    const fields = Array.from({ length: 40 }, (_, i) => ({ name: `필드${i}`, value: '값'.repeat(500) }));
    const out = fitMessage({ embeds: [{ fields }] }, () => {}, locale);
    expect(out.embeds[0]!.fields.at(-1)!.value).toMatch(new RegExp(`^\\+.*${locale === 'en' ? 'more fields' : '개 더 \\(메시지 크기 제한으로 생략\\)'}`));
    expect(fitMessage({ embeds: [{ fields: fields.map((f) => ({ ...f, value: 'v' })) }] }, () => {}, locale).embeds[0]!.fields[24]!.value).toBe(note);
    expectWithinLimits(out);
  });

  it('keeps at most 10 embeds and counts the total across all of them', () => {
    const embeds = Array.from({ length: 12 }, () => ({ description: 'd'.repeat(1000) }));
    const { warn, calls } = recorder();
    const out = fitMessage({ embeds }, warn, 'en');
    expect(out.embeds).toHaveLength(10);
    expect(totalLength(out.embeds)).toBeLessThanOrEqual(EMBED_TOTAL);
    expect(calls[0]).toMatchObject({ details: { part: 'embeds', limit: 'MESSAGE_EMBEDS', from: 12 } });
  });

  it('drops a title link longer than Discord accepts instead of cutting it', () => {
    const { warn, calls } = recorder();
    const out = fitMessage({ embeds: [{ title: 't', url: `https://e.example/${'a'.repeat(EMBED_URL)}` }] }, warn, 'en');
    expect(out.embeds[0]!.url).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('replaces empty field names and values, which Discord rejects', () => {
    const out = fitMessage({ embeds: [{ fields: [{ name: '', value: ' ' }] }] }, () => {}, 'en');
    expect(out.embeds[0]!.fields).toEqual([{ name: '\u200b', value: '\u200b' }]);
  });

  it('keeps a code block closed when the total forces a cut inside it', () => {
    const value = `Logs: 30\n\`\`\`\n${Array.from({ length: 30 }, (_, i) => `line ${i} ${'z'.repeat(20)}`).join('\n')}\n\`\`\``;
    const fields = Array.from({ length: 8 }, (_, i) => ({ name: `alert ${i}`, value }));
    const out = fitMessage({ embeds: [{ fields }] }, () => {}, 'en');
    for (const f of out.embeds[0]!.fields) {
      expect(f.value.endsWith('\n```')).toBe(true);
      expect(f.value.match(/```/g)).toHaveLength(2);
    }
  });

  describe('property: never rejected for size (seeded random bodies)', () => {
    /** What fitMessage does to a body within the limits: only empty parts change. */
    const withEmptyFieldsFilled = (body: MessageBody): MessageBody => {
      const copy = structuredClone(body);
      for (const e of copy.embeds ?? []) {
        if (e.title === '') delete e.title;
        if (e.description === '') delete e.description;
        if (e.author?.name === '') delete e.author;
        if (e.footer?.text === '') delete e.footer;
        for (const f of e.fields ?? []) {
          if (!f.name.trim()) f.name = '\u200b';
          if (!f.value.trim()) f.value = '\u200b';
        }
      }
      return copy;
    };
    const alphabet = ['a', 'Z', ' ', '\n', '`', '```', '*', '😀', FAMILY, '🇩🇪', 'é', 'e\u0301', '漢', '𝒳'];
    const randomText = (next: () => number, maxLen: number): string => {
      const len = Math.floor(next() ** 3 * maxLen); // mostly short, sometimes huge
      const parts: string[] = [];
      let n = 0;
      while (n < len) {
        const piece = next() < 0.6 ? 'x'.repeat(1 + Math.floor(next() * 50)) : alphabet[Math.floor(next() * alphabet.length)]!;
        parts.push(piece);
        n += piece.length;
      }
      return parts.join('');
    };
    const randomEmbed = (next: () => number, scale: number): APIEmbed => {
      const e: APIEmbed = {};
      if (next() < 0.8) e.title = randomText(next, 1000 * scale);
      if (next() < 0.8) e.description = randomText(next, 12_000 * scale);
      if (next() < 0.5) e.footer = { text: randomText(next, 5000 * scale) };
      if (next() < 0.3) e.author = { name: randomText(next, 1000 * scale) };
      if (next() < 0.3) e.url = `https://e.example/${'p'.repeat(Math.floor(next() * 3000 * scale))}`;
      if (next() < 0.9) {
        e.fields = Array.from({ length: Math.floor(next() * 60 * scale) }, () => ({
          name: randomText(next, 600 * scale),
          value: next() < 0.3 ? `head\n\`\`\`\n${randomText(next, 4000 * scale)}\n\`\`\`` : randomText(next, 4000 * scale),
        }));
      }
      return e;
    };

    it.each([1, 2, 3, 4, 5, 6])('holds every limit for seed %i (15 bodies each)', (seed) => {
      const next = rng(seed);
      let within = 0;
      for (let i = 0; i < 15; i++) {
        // A third of the bodies are small, so some are within the limits and must pass untouched.
        const scale = next() < 0.33 ? 0.1 : 1;
        const body: MessageBody = {
          ...(next() < 0.5 ? { content: randomText(next, 6000 * scale) } : {}),
          embeds: Array.from({ length: 1 + Math.floor(next() * 13 * scale) }, () => randomEmbed(next, scale)),
        };
        const { warn, calls } = recorder();
        const out = fitMessage(body, warn, 'en');
        expectWithinLimits(out);
        // Warned exactly when the input broke a limit; untouched when it did not.
        const over = limitViolations(body).length > 0;
        expect(calls.length > 0).toBe(over);
        if (!over) expect(out).toEqual(withEmptyFieldsFilled(body));
        if (!over) within++;
        // Fitting is idempotent: a fitted body needs no more cuts.
        const again = recorder();
        fitMessage(out, again.warn, 'en');
        expect(again.calls).toEqual([]);
      }
      // The seed covers both sides: bodies over the limits and bodies within them.
      expect(within).toBeGreaterThan(0);
      expect(within).toBeLessThan(15);
    });
  });
});

describe('joinEmbeds', () => {
  const embeds = (n: number, chars: number) => Array.from({ length: n }, (_, i) => ({ title: `e${i}`, description: 'x'.repeat(chars - 2) }));
  it.each([
    ['two small messages', { embeds: embeds(3, 500) }, { embeds: embeds(2, 500) }, 5],
    ['exactly ten embeds and 6000 characters', { embeds: embeds(5, 600) }, { embeds: embeds(5, 600) }, 10],
    ['eleven embeds', { embeds: embeds(6, 10) }, { embeds: embeds(5, 10) }, undefined],
    ['6001 characters', { embeds: embeds(1, 3000) }, { embeds: [{ description: 'x'.repeat(3001) }] }, undefined],
    ['emoji counted in UTF-16 units', { embeds: [{ description: '🔥'.repeat(1500) }] }, { embeds: [{ description: 'x'.repeat(3001) }] }, undefined],
    ['a message with content', { content: 'hi', embeds: embeds(1, 10) }, { embeds: embeds(1, 10) }, undefined],
    ['a message with buttons', { embeds: embeds(1, 10) }, { embeds: embeds(1, 10), components: [{ type: 1, components: [] }] }, undefined],
    ['a message without embeds', { embeds: [] }, { embeds: embeds(1, 10) }, undefined],
  ] as const)('joins %s only when the result is within Discord limits', (_name, a, b, count) => {
    const joined = joinEmbeds(a as never, b as never);
    expect(joined?.embeds?.length).toBe(count);
    if (joined) {
      expect(joined.embeds).toEqual([...a.embeds, ...b.embeds]);
      expectWithinLimits(joined);
    }
  });
});
