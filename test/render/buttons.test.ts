import type { APIButtonComponentWithCustomId, APIEmbed } from 'discord-api-types/v10';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCustomId } from '../../src/commands/router.js';
import { ackLine, renderAlertMessage, withAcknowledgement } from '../../src/render/alert.js';
import { alertButtons } from '../../src/render/buttons.js';
import { EMBED_DESCRIPTION } from '../../src/render/limits.js';
import { codePointLength } from '../../src/render/truncate.js';
import { enrichment, expectWithinLimits, loadWebhook, messageValidator, recorder } from './helpers.js';

const NOW = new Date('2026-11-21T08:55:00Z');
const ACK = { userId: '111111111111111111', at: new Date('2026-11-21T08:54:00Z') };

let validate: (body: unknown) => string[];
beforeAll(() => {
  validate = messageValidator();
});

function buttonsOf(incidentId: number, state: 'firing' | 'acknowledged' | 'resolved'): APIButtonComponentWithCustomId[] {
  const rows = alertButtons(incidentId, state);
  expect(rows).toHaveLength(1);
  return rows[0]!.components as APIButtonComponentWithCustomId[];
}

/** The real Alertmanager fixture rendered as Vigil posts it. */
function alertMessage(over: { acknowledged?: typeof ACK } = {}) {
  const n = loadWebhook('alertmanager-firing.json');
  const enrichments = Object.fromEntries(n.alerts.map((a) => [a.fingerprint, enrichment(a, NOW)]));
  return renderAlertMessage(
    { enriched: { notification: n, enrichments }, state: 'firing', incidentStartedAt: n.alerts[0]!.startsAt, now: NOW, ...over },
    recorder().warn,
  );
}

describe('alertButtons', () => {
  it('offers Silence 1h, Acknowledge and Logs on a firing alert, each naming the incident', () => {
    const buttons = buttonsOf(42, 'firing');
    expect(buttons.map((b) => b.label)).toEqual(['Silence 1h', 'Acknowledge', 'Logs']);
    expect(buttons.map((b) => parseCustomId(b.custom_id))).toEqual([
      { action: 'silence1h', ref: '42' },
      { action: 'ack', ref: '42' },
      { action: 'logs', ref: '42' },
    ]);
  });

  it('offers Unacknowledge in place of Acknowledge once someone has the incident', () => {
    const buttons = buttonsOf(42, 'acknowledged');
    expect(buttons.map((b) => b.label)).toEqual(['Silence 1h', 'Unacknowledge', 'Logs']);
    expect(parseCustomId(buttons[1]!.custom_id)).toEqual({ action: 'unack', ref: '42' });
  });

  it('keeps only Logs once resolved: silencing or acknowledging an alert that is over does nothing', () => {
    expect(buttonsOf(42, 'resolved').map((b) => parseCustomId(b.custom_id)?.action)).toEqual(['logs']);
  });

  it.each([1, 42, 2 ** 53 - 1])("keeps custom ids within Discord's 100 characters for incident %i", (id) => {
    for (const b of buttonsOf(id, 'firing')) {
      expect(b.custom_id.length).toBeLessThanOrEqual(100);
      expect(parseCustomId(b.custom_id)?.ref).toBe(String(id));
    }
  });

  it.each(['firing', 'acknowledged', 'resolved'] as const)("gives a %s message body Discord's OpenAPI spec accepts", (state) => {
    const body = { ...alertMessage(), components: alertButtons(7, state) };
    expect(validate(body)).toEqual([]);
  });

  it('fails the spec check for a custom id past 100 characters (the checker does check components)', () => {
    const rows = alertButtons(7, 'firing');
    (rows[0]!.components[0] as APIButtonComponentWithCustomId).custom_id = 'x'.repeat(101);
    expect(validate({ ...alertMessage(), components: rows }).join()).toMatch(/custom_id|must NOT have more than 100/);
  });
});

describe('the acknowledgement on an alert message', () => {
  it('reads "👀 Acknowledged by <@id> <t:…:R>"', () => {
    expect(ackLine(ACK)).toBe('👀 Acknowledged by <@111111111111111111> <t:1795251240:R>');
  });

  it('never lets a non-snowflake user id into the mention markup', () => {
    expect(ackLine({ userId: '1> @everyone <@1', at: ACK.at })).toBe('👀 Acknowledged by someone <t:1795251240:R>');
  });

  it('opens the description of a rendered alert, and is absent when nobody acknowledged', () => {
    const acked = alertMessage({ acknowledged: ACK }).embeds![0]!;
    const plain = alertMessage().embeds![0]!;
    expect(acked.description!.startsWith(`${ackLine(ACK)}\n\n`)).toBe(true);
    expect(acked.description).toBe(`${ackLine(ACK)}\n\n${plain.description}`);
    expect(plain.description).not.toContain('Acknowledged');
  });

  it('is added to the embeds Discord sent with the button press, the rest kept as it was', () => {
    const original = alertMessage().embeds!;
    const { warn, calls } = recorder();
    const [first, ...rest] = withAcknowledgement(original, ACK, warn);
    expect(first!.description).toBe(`${ackLine(ACK)}\n\n${original[0]!.description}`);
    expect({ ...first, description: undefined }).toEqual({ ...original[0], description: undefined });
    expect(rest).toEqual(original.slice(1));
    expect(calls).toEqual([]);
  });

  it('is taken out again when the incident is given back, the rest as it was', () => {
    const original = alertMessage().embeds!;
    const acked = withAcknowledgement(original, ACK, recorder().warn);
    expect(withAcknowledgement(acked, undefined, recorder().warn)).toEqual(original);
  });

  it('replaces an earlier acknowledgement line instead of stacking them', () => {
    const once = withAcknowledgement(alertMessage().embeds!, ACK, recorder().warn);
    const later = { userId: '222222222222222222', at: new Date('2026-11-21T09:00:00Z') };
    const twice = withAcknowledgement(once, later, recorder().warn);
    expect(twice[0]!.description!.match(/Acknowledged by/g)).toHaveLength(1);
    expect(twice[0]!.description).toContain('<@222222222222222222>');
  });

  it('cuts the description, never the acknowledgement, when the description is already full', () => {
    const full: APIEmbed[] = [{ title: 'x', description: 'y'.repeat(EMBED_DESCRIPTION) }];
    const { warn, calls } = recorder();
    const [embed] = withAcknowledgement(full, ACK, warn);
    expect(embed!.description!.startsWith(ackLine(ACK))).toBe(true);
    expect(codePointLength(embed!.description!)).toBeLessThanOrEqual(EMBED_DESCRIPTION);
    expectWithinLimits({ embeds: [embed!] });
    expect(calls.length).toBeGreaterThan(0);
  });

  it('leaves a message without embeds without embeds', () => {
    expect(withAcknowledgement([], ACK, recorder().warn)).toEqual([]);
  });
});

describe('alertButtons for Vigil watchdog alerts', () => {
  it('offers only Acknowledge while firing, and nothing once resolved', () => {
    const firing = alertButtons(9, 'firing', 'vigil');
    expect(firing).toHaveLength(1);
    expect(firing[0]!.components.map((c) => ('custom_id' in c ? c.custom_id : ''))).toEqual(['vigil:ack:9']);
    expect(alertButtons(9, 'resolved', 'vigil')).toEqual([]);
  });
});
