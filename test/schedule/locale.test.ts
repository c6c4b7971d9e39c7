import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { PrometheusClient } from '../../src/queries/prometheus.js';
import { scheduledJobs } from '../../src/schedule/index.js';
import { pruneFailureMessage, snapshotFailureMessage } from '../../src/schedule/snapshots.js';
import type { JobContext } from '../../src/schedule/scheduler.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { expectWithinLimits, messageValidator } from '../render/helpers.js';
import { expectKorean, hangul } from '../render/korean.js';

const CHANNEL = '223456789012345678';
const NOW = new Date('2026-11-21T00:00:00Z');
const validate = messageValidator();

function config(locale: 'en' | 'ko') {
  const r = parseConfig(
    `webhook: { token: locale-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: http://127.0.0.1:9 }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
locale: ${locale}
digest: { timezone: Asia/Seoul }
snapshots: { retain: 3 }
`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** A Prometheus that has no series and cannot take a snapshot. */
const prometheus = {
  query: () => Promise.resolve({ resultType: 'vector', result: [] }),
  snapshot: () => Promise.reject(new Error(`Prometheus HTTP 403: admin APIs disabled ${hangul(3000)}`)),
} as unknown as PrometheusClient;

const ctx = (): JobContext => ({ scheduledAt: NOW, reason: 'manual', signal: new AbortController().signal });

let db: SqliteDatabase;
beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(async () => {
  await db.close();
});

function posted(): RESTPostAPIChannelMessageJSONBody[] {
  return (db.sqlite.prepare(`SELECT body FROM outbox ORDER BY id`).all() as Array<{ body: string }>).map(
    (r) => JSON.parse(r.body) as RESTPostAPIChannelMessageJSONBody,
  );
}

function jobs(locale: 'en' | 'ko') {
  return scheduledJobs(config(locale), { db, logger: createLogger({ level: 'silent' }), now: () => NOW, prometheus });
}

describe('scheduled jobs in the configured language', () => {
  it('posts the digest in Korean with locale: ko', async () => {
    await jobs('ko')
      .find((j) => j.name === 'digest')!
      .run(ctx());
    const [body] = posted();
    expectWithinLimits(body!);
    expect(validate(body)).toEqual([]);
    expect(body!.embeds![0]!.title).toBe('📊 일일 요약 · 11월 21일 (토)');
    expectKorean(body!);
  });

  it('posts the digest in English by default', async () => {
    await jobs('en')
      .find((j) => j.name === 'digest')!
      .run(ctx());
    expect(posted()[0]!.embeds![0]!.title).toBe('📊 Daily digest · Sat 21 Nov');
  });

  it("announces a failed snapshot in Korean, Prometheus' long error cut to fit one message", async () => {
    await expect(
      jobs('ko')
        .find((j) => j.name === 'snapshots')!
        .run(ctx()),
    ).rejects.toThrow('admin APIs disabled');
    const [body] = posted();
    expect(body!.content).toMatch(/^⚠️ Prometheus 스냅샷 실패: Prometheus HTTP 403: admin APIs disabled /);
    expectWithinLimits(body!);
    expect(validate(body)).toEqual([]);
  });

  it('says a failed pruning in either language, within 2000 characters', () => {
    const error = `snapshots.dataDir: ${hangul(3000)}`;
    const ko = pruneFailureMessage('20261121T030000Z-2be650b6d019eb54', error, 'ko');
    expect(ko.content).toMatch(/^⚠️ Prometheus 스냅샷 정리 실패: snapshots\.dataDir: [^ ]+… \(스냅샷 20261121T030000Z-2be650b6d019eb54은 생성됨\)$/);
    expectWithinLimits(ko);
    expectKorean(ko);
    expect(pruneFailureMessage('s1', 'EACCES', 'en').content).toBe('⚠️ Pruning Prometheus snapshots failed: EACCES (snapshot s1 was created)');
    expect(snapshotFailureMessage('HTTP 503').content).toBe('⚠️ Prometheus snapshot failed: HTTP 503');
    expect(snapshotFailureMessage('HTTP 503', 'ko').content).toBe('⚠️ Prometheus 스냅샷 실패: HTTP 503');
  });
});
