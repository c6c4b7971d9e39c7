import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model.js';
import type { Database } from '../../src/store/db.js';
import { openTestStore } from '../support/store.js';
import {
  finishNotification,
  insertNotification,
  insertReminder,
  nextPendingNotification,
  NotificationTaken,
  pendingNotificationCount,
} from '../../src/store/notifications.js';

const T0 = new Date('2026-12-07T03:00:00Z');
const GAP = 5 * 60_000;
const n: Notification = {
  source: 'alertmanager',
  receiver: 'vigil',
  status: 'firing',
  groupKey: '{}:{alertname="DiskFull"}',
  groupLabels: { alertname: 'DiskFull' },
  commonLabels: { alertname: 'DiskFull' },
  commonAnnotations: {},
  truncatedAlerts: 0,
  alerts: [{ fingerprint: 'a', status: 'firing', labels: { alertname: 'DiskFull' }, annotations: {}, startsAt: T0, source: 'alertmanager' }],
};

let db: Database;
beforeEach(async () => {
  db = await openTestStore();
});
afterEach(() => db.close());

/** What intake does with one copy of `n` arriving `minutes` after T0: its stored id, and whether it is a reminder. */
async function receive(minutes: number): Promise<{ id: number; duplicate: boolean; reminder?: number }> {
  const at = new Date(T0.getTime() + minutes * 60_000);
  const stored = await insertNotification(db, n, at);
  if (!stored.duplicate) return stored;
  const reminder = await insertReminder(db, stored.id, n, at, GAP);
  return reminder === undefined ? stored : { ...stored, reminder };
}

describe('a repeated notification', () => {
  it("is a duplicate within the gap (a retry, an HA peer's copy), and a reminder once the last copy is older", async () => {
    const first = await receive(0);
    expect(first).toEqual({ id: 1, duplicate: false });
    expect(await receive(0.5)).toEqual({ id: 1, duplicate: true });
    expect(await receive(4.9)).toEqual({ id: 1, duplicate: true });
    // Alertmanager's repeat_interval: the first copy after the gap becomes a reminder...
    expect(await receive(240)).toEqual({ id: 1, duplicate: true, reminder: 2 });
    // ...and its HA peer's copy seconds later stays a duplicate.
    expect(await receive(240.2)).toEqual({ id: 1, duplicate: true });
    expect(await receive(480)).toEqual({ id: 1, duplicate: true, reminder: 3 });
  });

  it('goes to the pipeline marked as a reminder, the rest as it came', async () => {
    await receive(0);
    await receive(240);
    expect((await nextPendingNotification(db, 1))?.notification).toEqual({ ...n, reminder: true });
  });
});

describe('finishing a notification', () => {
  it('finishes a pending one once, and refuses a second finish (another replica got there first)', async () => {
    const { id } = await insertNotification(db, n, T0);
    await finishNotification(db, id, { status: 'done', decision: 'new incident' }, T0);
    await expect(finishNotification(db, id, { status: 'done', decision: 'new incident' }, T0)).rejects.toBeInstanceOf(NotificationTaken);
    expect(await pendingNotificationCount(db)).toBe(0);
  });
});
