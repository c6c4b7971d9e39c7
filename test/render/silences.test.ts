import { describe, expect, it } from 'vitest';
import { MatcherSyntaxError, parseMatchers } from '../../src/config/matchers.js';
import { translator } from '../../src/i18n/index.js';
import type { Silence } from '../../src/queries/alertmanager.js';
import { EMBED_DESCRIPTION } from '../../src/render/limits.js';
import {
  matcherErrorText,
  renderButtonSilenced,
  renderSilenceCreated,
  renderSilenceExpired,
  renderSilenceList,
  renderSilencedNotice,
  shortId,
  sortSilences,
} from '../../src/render/silences.js';
import { codePointLength } from '../../src/render/truncate.js';
import { messageValidator } from './helpers.js';

const T = (iso: string) => new Date(`2026-11-21T${iso}Z`);
const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const silence = (id: string, over: Partial<Silence> = {}): Silence => ({
  id,
  matchers: [{ name: 'alertname', value: 'HighCPU', isRegex: false, isEqual: true }],
  startsAt: T('10:00:00'),
  endsAt: T('13:00:00'),
  createdBy: 'oncall (111111111111111111)',
  comment: 'deploy',
  state: 'active',
  ...over,
});
const ID1 = 'b0ba97a2-be32-4a26-8696-3001d56282f6';
const ID2 = '5d33a8cd-30aa-4d83-95f0-92b6c6d705a9';
const ID3 = '0f1e2d3c-4b5a-4697-8877-665544332211';

describe('renderSilenceList', () => {
  it('lists active silences (soonest end first) then pending ones, with short and full ids, matchers, creator and comment', () => {
    const body = renderSilenceList({
      silences: [
        silence(ID2, { state: 'pending', startsAt: T('20:00:00'), endsAt: T('22:00:00'), createdBy: 'bob (2)', comment: 'db upgrade' }),
        silence(ID1, {
          matchers: [
            { name: 'alertname', value: 'HighCPU', isRegex: false, isEqual: true },
            { name: 'instance', value: 'web-.*', isRegex: true, isEqual: true },
            { name: 'env', value: 'dev', isRegex: false, isEqual: false },
          ],
        }),
        silence(ID3, { state: 'expired' }),
      ],
      source: 'Alertmanager',
      url: 'http://127.0.0.1:9093/#/silences',
    });
    expect(body).toEqual({
      embeds: [
        {
          title: '🔕 2 silences (1 active, 1 pending)',
          description: [
            `🔕 **b0ba97a2** · ends <t:${unix(T('13:00:00'))}:R>`,
            '`{alertname="HighCPU", instance=~"web-.*", env!="dev"}`',
            'by oncall (111111111111111111) · deploy',
            `\`${ID1}\``,
            '',
            `⏳ **5d33a8cd** · starts <t:${unix(T('20:00:00'))}:R> · ends <t:${unix(T('22:00:00'))}:R>`,
            '`{alertname="HighCPU"}`',
            'by bob (2) · db upgrade',
            `\`${ID2}\``,
          ].join('\n'),
          color: 0x95a5a6,
          footer: { text: 'Alertmanager · /silence expire id:<id> ends one' },
          url: 'http://127.0.0.1:9093/#/silences',
        },
      ],
    });
    expect(messageValidator()(body)).toEqual([]);
  });

  it('says when there is nothing active or pending', () => {
    expect(renderSilenceList({ silences: [silence(ID3, { state: 'expired' })], source: 'Grafana Alertmanager' })).toEqual({
      content: '🔔 No active or pending silences in Grafana Alertmanager.',
    });
  });

  it('shows creator and comment as written, on one line, and leaves out what is empty', () => {
    const body = renderSilenceList({ silences: [silence(ID1, { createdBy: '', comment: '**urgent**\n@everyone' })], source: 'Alertmanager' });
    const lines = body.embeds![0]!.description!.split('\n');
    expect(lines[2]).toBe('\\*\\*urgent\\*\\* @everyone');
    expect(lines).toHaveLength(4);
  });

  it('stays within the description limit with many silences, saying how many are not shown', () => {
    const many = Array.from({ length: 100 }, (_, i) => silence(`${String(i).padStart(8, '0')}-be32-4a26-8696-3001d56282f6`, { comment: 'c'.repeat(100) }));
    const description = renderSilenceList({ silences: many, source: 'Alertmanager' }).embeds![0]!.description!;
    expect(codePointLength(description)).toBeLessThanOrEqual(EMBED_DESCRIPTION);
    const shown = description.split('\n').filter((l) => l.startsWith('🔕')).length;
    expect(description.endsWith(`…and ${100 - shown} more silences`)).toBe(true);
  });

  it('sorts active before pending whatever the input order', () => {
    const sorted = sortSilences([
      silence('p', { state: 'pending', startsAt: T('15:00:00') }),
      silence('a2', { endsAt: T('14:00:00') }),
      silence('p0', { state: 'pending', startsAt: T('14:30:00') }),
      silence('a1', { endsAt: T('12:00:00') }),
    ]);
    expect(sorted.map((s) => s.id)).toEqual(['a1', 'a2', 'p0', 'p']);
  });
});

describe('confirmations', () => {
  const matchers = [
    { name: 'alertname', value: 'HighCPU', isRegex: false, isEqual: true },
    { name: 'job', value: 'node', isRegex: false, isEqual: true },
  ];
  const endsAt = T('14:00:00');

  it('confirms a created silence with its end, id and link', () => {
    const body = renderSilenceCreated({ id: ID1, matchers, endsAt, url: `http://127.0.0.1:9093/#/silences/${ID1}` });
    expect(body.content).toBe(
      [
        '🔕 Silenced `{alertname="HighCPU", job="node"}`',
        `until <t:${unix(endsAt)}:f> (<t:${unix(endsAt)}:R>)`,
        `ID \`${ID1}\` · [open in Alertmanager](http://127.0.0.1:9093/#/silences/${ID1})`,
      ].join('\n'),
    );
    expect(messageValidator()(body)).toEqual([]);
  });

  it('leaves the link out when the Alertmanager URL is unknown', () => {
    expect(renderSilenceCreated({ id: ID1, matchers, endsAt }).content.split('\n')[2]).toBe(`ID \`${ID1}\``);
  });

  it('tells the button presser how to undo, and the channel who silenced it, by name (no ping)', () => {
    expect(renderButtonSilenced({ id: ID1, matchers, endsAt }).content.split('\n').at(-1)).toBe(`Undo: \`/silence expire id:${ID1}\``);
    expect(renderSilencedNotice('on_call', ID1, endsAt).content).toBe(`🔕 Silenced for 1h by **on\\_call** (until <t:${unix(endsAt)}:t>) · \`b0ba97a2\``);
  });

  it('confirms an expired silence', () => {
    expect(renderSilenceExpired({ id: ID1, matchers }, 'oncall').content).toBe(
      `🔔 Silence \`${ID1}\` expired by **oncall**: alerts matching \`{alertname="HighCPU", job="node"}\` notify again.`,
    );
  });

  it('keeps a matcher value with backticks inside its code span', () => {
    const body = renderSilenceCreated({ id: ID1, matchers: [{ name: 'alertname', value: 'a`b', isRegex: false, isEqual: true }], endsAt });
    expect(body.content.split('\n')[0]).toBe('🔕 Silenced `{alertname="aˋb"}`');
  });

  it.each([
    [ID1, 'b0ba97a2'],
    ['no-dashes', 'no'],
  ])('shortId(%s) = %s', (id, short) => {
    expect(shortId(id)).toBe(short);
  });
});

describe('matcherErrorText', () => {
  const errorOf = (text: string): MatcherSyntaxError => {
    try {
      parseMatchers(text);
    } catch (err) {
      if (err instanceof MatcherSyntaxError) return err;
      throw err;
    }
    throw new Error(`no error for ${text}`);
  };

  it.each([
    ['', '매처가 하나 이상 필요합니다'],
    ['x'.repeat(2000), '자까지 쓸 수 있는데'],
    ['job=', 'job= 뒤에 값이 필요합니다. 예: job="value" (끝부분)'],
    ['job', '"job" 뒤에 =, !=, =~ 또는 !~가 필요합니다 (끝부분)'],
    ['{job="a"', '{를 닫는 }가 필요합니다 (끝부분)'],
    ['job="a" x="b"', '매처 사이에 ,가 필요합니다 (위치 9)'],
    ['job="a', '값이 끝나지 않았습니다: 따옴표가 닫히지 않았습니다 (위치 5)'],
    ['1abc="x"', '레이블 이름 "1abc"이(가) 올바르지 않습니다'],
    ['job=~".*"', '모든 값에 일치합니다'],
    ['job!="a"', '(거의) 모든 알림이 사일런스됩니다'],
  ])('says what is wrong with %j in Korean, and in English as the parser does', (text, korean) => {
    const err = errorOf(text);
    expect(matcherErrorText(err, translator('ko'))).toContain(korean);
    expect(matcherErrorText(err, translator('ko'))).toMatch(/[\uac00-\ud7a3]/);
    expect(matcherErrorText(err, translator('en'))).toBe(err.message);
  });
});
