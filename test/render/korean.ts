// Test-only checks that a message rendered in Korean has no English left: every text of a message
// body, with code, links, Discord markup and the product names Korean keeps taken out.
import { expect } from 'vitest';
import type { MessageBody } from '../../src/render/truncate.js';

/** Names a Korean message keeps as they are (products, units, technical names). */
const KEPT = [
  'Alertmanager',
  'Prometheus',
  'Grafana',
  'Loki',
  'Vigil',
  'PromQL',
  'LogQL',
  'Explore',
  'CPU',
  'OOM',
  'node_exporter',
  'node_filesystem',
  'node_memory',
  'snapshots.dataDir',
  'vigil_promql',
  'alertname',
  'KST',
  'UTC',
  'GiB',
  'MiB',
  'KiB',
];

/** Every text of a message body: content, and each embed's title, description, fields and footer. */
export function textsOf(body: MessageBody): string[] {
  return [
    body.content ?? '',
    ...(body.embeds ?? []).flatMap((e) => [e.title, e.description, e.footer?.text, e.author?.name, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])]),
  ].filter((t): t is string => typeof t === 'string' && t.length > 0);
}

/**
 * The English words (three letters or more) left in `text` once code, URLs, Discord markup
 * (<t:…>), the names a Korean message keeps and the given `names` (the input's own data) are
 * taken out.
 */
export function englishWords(text: string, names: readonly string[] = []): string[] {
  let rest = text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/<t:-?\d+:[a-zA-Z]>/g, ' ')
    .replace(/\\/g, '');
  for (const name of [...names, ...KEPT].sort((a, b) => b.length - a.length)) rest = rest.split(name).join(' ');
  return rest.match(/[A-Za-z]{3,}/g) ?? [];
}

/** Asserts the body speaks Korean: Hangul in it, and no English word but kept names and `names`. */
export function expectKorean(body: MessageBody, names: readonly string[] = []): void {
  const text = textsOf(body).join('\n');
  expect(text).toMatch(/[\uac00-\ud7a3]/);
  expect(englishWords(text, names)).toEqual([]);
}

/** `n` Hangul syllables, cycling through a few, for long Korean input. */
export function hangul(n: number): string {
  const syllables = '디스크용량부족경고서버응답지연';
  return Array.from({ length: n }, (_, i) => syllables[i % syllables.length]).join('');
}
