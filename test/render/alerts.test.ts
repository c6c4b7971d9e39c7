import { describe, expect, it } from 'vitest';
import { COLORS } from '../../src/render/alert.js';
import { groupAlerts, inlineCode, instanceOf, renderAlerts, severityOf, type AlertsOverview, type FiringAlert } from '../../src/render/alerts.js';
import { EMBED_DESCRIPTION } from '../../src/render/limits.js';
import { codePointLength } from '../../src/render/truncate.js';
import { messageValidator } from './helpers.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const alert = (alertname: string, severity: string | undefined, instance: string | undefined, minutes = 5): FiringAlert => ({
  labels: { alertname, ...(severity ? { severity } : {}), ...(instance ? { instance } : {}) },
  startsAt: ago(minutes),
});
const overview = (firing: FiringAlert[], extra: Partial<AlertsOverview> = {}): AlertsOverview => ({
  firing,
  silenced: 0,
  inhibited: 0,
  pending: 0,
  source: 'Alertmanager',
  now: NOW,
  ...extra,
});

describe('severityOf', () => {
  it.each([
    ['critical', 'critical'],
    [' Page ', 'critical'],
    ['warning', 'warning'],
    ['WARN', 'warning'],
    ['info', 'info'],
    ['none', 'info'],
    ['sev9', 'other'],
    [undefined, 'other'],
  ])('%j -> %s', (severity, expected) => {
    expect(severityOf(severity === undefined ? {} : { severity })).toBe(expected);
  });
});

describe('groupAlerts', () => {
  it('orders by severity, then by size, then by name; a group takes its most severe alert', () => {
    const groups = groupAlerts([
      alert('Zeta', 'warning', 'a'),
      alert('Big', 'warning', 'a'),
      alert('Big', 'warning', 'b'),
      alert('Mixed', 'info', 'a'),
      alert('Mixed', 'critical', 'b'),
      alert('Alpha', 'warning', 'a'),
      alert('Odd', 'sev9', 'a'),
      alert('Note', 'info', 'a'),
    ]);
    expect(groups.map((g) => [g.name, g.severity, g.alerts.length])).toEqual([
      ['Mixed', 'critical', 2],
      ['Big', 'warning', 2],
      ['Alpha', 'warning', 1],
      ['Zeta', 'warning', 1],
      ['Note', 'info', 1],
      ['Odd', 'other', 1],
    ]);
  });

  it('keeps the oldest start and lists alerts oldest first; unknown starts do not count', () => {
    const [g] = groupAlerts([alert('A', 'info', 'new', 1), { labels: { alertname: 'A', instance: 'unknown' } }, alert('A', 'info', 'old', 90)]);
    expect(g!.oldest).toEqual(ago(90));
    expect(g!.alerts.map((a) => a.labels.instance)).toEqual(['old', 'new', 'unknown']);
  });
});

describe('instanceOf', () => {
  const a = { labels: { alertname: 'X', job: 'node', pod: 'api-7f9', instance: '10.0.0.1:9100' } };
  it.each<[string, FiringAlert, FiringAlert[], string]>([
    ['the instance label first', a, [a], '10.0.0.1:9100'],
    ['the next instance-like label', { labels: { alertname: 'X', pod: 'api-7f9', job: 'k8s' } }, [], 'api-7f9'],
    [
      'the labels that differ within the group',
      { labels: { alertname: 'X', domain: 'a.org', team: 'web' } },
      [{ labels: { alertname: 'X', domain: 'b.org', team: 'web' } }],
      'domain=a.org',
    ],
    [
      'a lone alert: its labels but name and severity',
      { labels: { alertname: 'X', severity: 'info', zone: 'eu', domain: 'a.org' } },
      [],
      'domain=a.org,zone=eu',
    ],
    ['nothing when nothing tells it apart', { labels: { alertname: 'X', severity: 'info' } }, [], ''],
  ])('%s', (_name, alertIn, others, expected) => {
    expect(instanceOf(alertIn, [alertIn, ...others])).toBe(expected);
  });
});

describe('renderAlerts', () => {
  it('renders a phone-sized overview: title, one line per group with emoji, count and age, then instances', () => {
    const body = renderAlerts(
      overview(
        [
          ...['web-1', 'web-2', 'web-3', 'web-4', 'web-5'].map((h, i) => alert('HighCPU', 'critical', `${h}:9100`, 125 - i)),
          alert('DiskWillFill', 'warning', 'db-1:9100', 42),
          alert('CertExpiry', 'info', undefined, 60 * 26),
        ],
        { silenced: 2, inhibited: 1 },
      ),
    );
    expect(body).toEqual({
      embeds: [
        {
          title: '🔥 7 alerts firing in 3 groups',
          description: [
            '🔴 **HighCPU** ×5 · for 2h 5m',
            '└ `web-1:9100` `web-2:9100` `web-3:9100` +2 more',
            '🟠 **DiskWillFill** · for 42m',
            '└ `db-1:9100`',
            '🔵 **CertExpiry** · for 1d 2h',
          ].join('\n'),
          color: COLORS.critical,
          footer: { text: 'Alertmanager · 🔕 2 silenced · 1 inhibited' },
        },
      ],
    });
    expect(messageValidator()(body)).toEqual([]);
  });

  it.each<[string, Partial<AlertsOverview>, string]>([
    ['nothing held back', {}, '✅ Nothing is firing.'],
    ['silenced alerts', { silenced: 3 }, '✅ Nothing is firing. (🔕 3 silenced)'],
    ['pending alerts', { pending: 1, source: 'Prometheus' }, '✅ Nothing is firing. (⏳ 1 pending)'],
  ])('says nothing is firing, with %s', (_name, extra, content) => {
    expect(renderAlerts(overview([], extra))).toEqual({ content });
  });

  it('shows label text as written: markdown in names escaped, backticks unable to end the code span', () => {
    const body = renderAlerts(overview([alert('*Disk*_full_', 'warning', 'a`b` **x**')]));
    const description = body.embeds![0]!.description!;
    expect(description).toContain('**\\*Disk\\*\\_full\\_**');
    expect(description).toContain('`aˋbˋ **x**`');
    expect(inlineCode('a\nb', 40)).toBe('`a b`');
  });

  it('leaves out the age when no start is known', () => {
    const body = renderAlerts(overview([{ labels: { alertname: 'X', instance: 'a' } }]));
    expect(body.embeds![0]!.description).toBe('⚪ **X**\n└ `a`');
  });

  it('stays within the description limit with hundreds of groups, saying how many are not shown', () => {
    const many = Array.from({ length: 400 }, (_, i) => alert(`Alert${String(i).padStart(3, '0')}`, 'warning', `host-${i}.example.internal:9100`));
    const body = renderAlerts(overview(many));
    const description = body.embeds![0]!.description!;
    expect(codePointLength(description)).toBeLessThanOrEqual(EMBED_DESCRIPTION);
    const shown = description.split('\n').filter((l) => l.startsWith('🟠')).length;
    expect(description.split('\n').at(-1)).toBe(`…and ${400 - shown} more groups (${400 - shown} alerts)`);
    expect(body.embeds![0]!.title).toBe('🔥 400 alerts firing in 400 groups');
    expect(messageValidator()(body)).toEqual([]);
  });
});
