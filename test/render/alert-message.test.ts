import { describe, expect, it } from 'vitest';
import { alertMessage } from '../../src/render/alert-message.js';
import type { Warn } from '../../src/render/truncate.js';

const noWarn: Warn = () => {};
const body = { embeds: [{ title: 'FIRING: HighCpu', footer: { text: 'Alertmanager → team' } }], allowed_mentions: { parse: [] } };
const chart = { status: 'rendered' as const, file: { name: 'chart.png', data: Buffer.from('png') }, expr: 'node_load1' };

describe('alertMessage: the alert message put together in one place', () => {
  it('carries the chart as file and embed image, and buttons naming the incident', () => {
    const out = alertMessage({ body, kind: 'create', chart, buttons: 'firing', source: 'alertmanager' }, 42, noWarn);
    expect(out.file).toEqual(chart.file);
    expect(out.body.embeds?.[0]?.image?.url).toBe('attachment://chart.png');
    expect(out.body.attachments).toEqual([{ id: '0', filename: 'chart.png', description: 'Chart of node_load1 over the incident window' }]);
    const ids = JSON.stringify(out.body.components).match(/"custom_id":"[^"]+"/g) ?? [];
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.includes(':42'))).toBe(true);
  });

  it('leaves an edit without a chart its attachments as rendered when charts are off', () => {
    const out = alertMessage({ body, kind: 'edit', buttons: 'resolved', source: 'grafana' }, 7, noWarn);
    expect(out.file).toBeUndefined();
    expect(out.body.attachments).toBeUndefined();
    expect(out.body.embeds).toEqual(body.embeds);
  });

  it('clears the old chart from an edit whose chart was skipped, and says why in the footer', () => {
    const out = alertMessage(
      { body, kind: 'edit', chart: { status: 'skipped', reason: { why: 'over-budget', budgetMs: 2000 } }, buttons: 'firing', source: 'alertmanager' },
      7,
      noWarn,
    );
    expect(out.body.attachments).toEqual([]);
    expect(out.body.embeds?.[0]?.footer?.text).toBe('Alertmanager → team · chart skipped: took over 2s');
  });
});
