import { describe, expect, it } from 'vitest';
import { mentionText, pageOf, withPage } from '../../src/render/mentions.js';
import { MESSAGE_CONTENT } from '../../src/render/limits.js';
import { codePointLength } from '../../src/render/truncate.js';
import { testConfig } from '../support/deps.js';

const [pagesOnCritical, pagesAll] = testConfig({
  routes: [
    {
      name: 'db',
      channelId: '222222222222222222',
      mentions: { roles: ['333333333333333333'], users: ['555555555555555555'], severities: ['critical', 'other'] },
    },
    { name: 'web', channelId: '322222222222222222', mentions: { roles: ['333333333333333333'] } },
    { name: 'quiet', channelId: '422222222222222222' },
  ],
}).routes;
const quiet = testConfig({ routes: [{ name: 'quiet', channelId: '422222222222222222' }] }).routes[0];

const firing = (severity?: string) => ({ status: 'firing' as const, labels: { alertname: 'X', ...(severity ? { severity } : {}) } });
const resolved = (severity: string) => ({ status: 'resolved' as const, labels: { alertname: 'X', severity } });

describe('pageOf', () => {
  it.each([
    ['a critical alert on a route paging on critical', pagesOnCritical, [firing('critical')], true],
    ['a spelling of critical severityOf knows (P1)', pagesOnCritical, [firing('P1')], true],
    ['a warning on a route paging on critical only', pagesOnCritical, [firing('warning')], false],
    ['an alert without a severity label, `other` listed', pagesOnCritical, [firing()], true],
    ['a resolved critical alert beside a firing warning', pagesOnCritical, [resolved('critical'), firing('warning')], false],
    ['any severity on a route that lists none', pagesAll, [firing('info')], true],
    ['a route without mentions', quiet, [firing('critical')], false],
    ['no route (the alert channel)', undefined, [firing('critical')], false],
  ])('%s: pages = %s', (_what, route, alerts, pages) => {
    expect(pageOf(route, alerts) !== undefined).toBe(pages);
  });
});

describe('withPage', () => {
  const page = { roles: ['333333333333333333'], users: ['555555555555555555'] };

  it('puts the mentions first and lets exactly those ids ping', () => {
    const body = withPage({ embeds: [{ title: 'FIRING: DiskFull' }], allowed_mentions: { parse: [] } }, page);
    expect(body.content).toBe('🔔 <@&333333333333333333> <@555555555555555555>');
    expect(body.allowed_mentions).toEqual({ parse: [], roles: ['333333333333333333'], users: ['555555555555555555'] });
    expect(body.embeds).toEqual([{ title: 'FIRING: DiskFull' }]);
  });

  it('never lets text from labels or annotations ping: @everyone and role mentions in it stay inert', () => {
    const body = withPage({ content: 'summary: @everyone <@&999999999999999999> disk full', allowed_mentions: { parse: [] } }, page);
    expect(body.content).toBe(`🔔 ${mentionText(page)}: summary: @everyone <@&999999999999999999> disk full`);
    expect(body.allowed_mentions).toEqual({ parse: [], roles: ['333333333333333333'], users: ['555555555555555555'] });
  });
});

describe('withPage within limits', () => {
  it('cuts the text after the mentions, never the mentions, so a long reminder with 40 mentions still fits', () => {
    const page = {
      roles: Array.from({ length: 20 }, (_, i) => `3${String(i).padStart(17, '0')}`),
      users: Array.from({ length: 20 }, (_, i) => `5${String(i).padStart(17, '0')}`),
    };
    const body = withPage({ content: `🔁 Still firing after 4h: ${'LongAlertName, '.repeat(200)}`, allowed_mentions: { parse: [] } }, page);
    expect(codePointLength(body.content!)).toBeLessThanOrEqual(MESSAGE_CONTENT);
    expect(body.content!.startsWith(`🔔 ${mentionText(page)}: 🔁 Still firing after 4h`)).toBe(true);
    expect(body.content!.endsWith('…')).toBe(true);
  });
});
