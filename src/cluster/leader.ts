import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Clock } from '../model.js';
import type { Database } from '../store/db.js';
import { connectPostgres, postgresVersion } from '../store/postgres.js';
import { acquireLease, getLease, heartbeatReplica, releaseLease, replicasSeen, type Replica } from '../store/leases.js';

/** The lease the leader holds: it runs the pipeline, delivery, schedules, watchdog and gateway. */
export const LEADER_LEASE = 'leader';

/** What /healthz and `vigil check-config` say about the replicas sharing the database. */
export interface ClusterStatus {
  /** This replica. */
  replica: string;
  /** Whether this replica leads. */
  leader: boolean;
  /** The replica holding an unexpired leader lease, if any. */
  leaderId?: string;
  /** Replicas seen within three lease lengths, the longest-running first. */
  replicas: Array<{ id: string; host: string; startedAt: string; seenAt: string; leader: boolean }>;
}

/** Runs the leader lease for one replica: takes it when free, renews it while alive, gives it up on stop. */
export interface LeaderElection {
  readonly replicaId: string;
  isLeader(): boolean;
  /** Starts trying for the lease (and the replica's heartbeat). */
  start(): void;
  /** Stops trying (a leader keeps its lease, and leads, until stop()): for a shutdown that first stops its work. */
  stopTrying(): Promise<void>;
  /** Stops trying; gives the lease up when held, so another replica takes over at once. */
  stop(): Promise<void>;
  status(): Promise<ClusterStatus>;
}

/** What createLeaderElection needs. */
export interface LeaderElectionOptions {
  db: Database;
  logger: Logger;
  now: Clock;
  /** How long a lease lasts without renewal: the longest a dead leader's work waits for another replica. */
  ttlMs: number;
  /** This replica's id; default `<host>-<pid>-<random>`. */
  replicaId?: string;
  /** Called once this replica holds the lease: start the leader's work. */
  onElected: () => Promise<void> | void;
  /**
   * Called when this replica held the lease and may have lost it (another took it, or it could
   * not renew it in time): the leader's work must stop at once.
   */
  onDeposed: (why: string) => void;
}

/** The replicas seen since `since` and the holder of an unexpired leader lease: /healthz and `vigil check-config --online`. */
export async function readCluster(db: Database, now: Date, since: Date): Promise<{ replicas: Replica[]; leaderId?: string }> {
  const [replicas, lease] = await Promise.all([replicasSeen(db, since), getLease(db, LEADER_LEASE)]);
  const leaderId = lease && lease.expiresAt.getTime() > now.getTime() ? lease.holder : undefined;
  return { replicas, ...(leaderId ? { leaderId } : {}) };
}

/**
 * What `vigil check-config --online` reads of the PostgreSQL at `url`: its schema version, the
 * replicas seen within a minute and the leader. Reads only: a check never migrates.
 */
export async function inspectCluster(url: string, now = new Date()): Promise<{ version: number; replicas: Replica[]; leaderId?: string }> {
  const db = connectPostgres(url, { poolSize: 1 });
  try {
    const version = await postgresVersion(db);
    // The replicas and the lease came with schema step 2.
    return { version, ...(version >= 2 ? await readCluster(db, now, new Date(now.getTime() - 60_000)) : { replicas: [] }) };
  } finally {
    await db.close();
  }
}

/** Waits for `p` (if any) for `ms` at most. */
async function within(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** A replica id: readable in logs, unique across restarts. */
export function newReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Leader election over a lease row (store/leases.ts): the leader renews every third of the lease;
 * the others try every fifth of it, so a dead leader's work moves within one lease length and a
 * try. A leader steps down (onDeposed) half a renewal before its lease would run out unrenewed,
 * even while a renewal still hangs, and when it finds the lease taken; a deposed election stops:
 * this process leads no more.
 */
export function createLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const { db, logger, now, ttlMs } = opts;
  const replicaId = opts.replicaId ?? newReplicaId();
  const host = hostname();
  const startedAt = now();
  const renewEvery = Math.max(50, Math.floor(ttlMs / 3));
  const tryEvery = Math.max(50, Math.min(2000, Math.floor(ttlMs / 5)));
  let leader = false;
  let leaseUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Steps down shortly before the lease runs out unless a renewal moved it: even while a renewal hangs. */
  let expiry: NodeJS.Timeout | undefined;
  let running = false;
  let round: Promise<void> | undefined;
  // Down half a renewal before the end: whatever the leader is doing stops before another may lead.
  const margin = Math.floor(renewEvery / 2);

  async function once(): Promise<void> {
    const at = now();
    try {
      await heartbeatReplica(db, { id: replicaId, host, startedAt }, at);
      const lease = await acquireLease(db, LEADER_LEASE, replicaId, at, ttlMs);
      if (!running) {
        // Stopped or deposed while asking: a lease it got now is given straight back.
        if (lease) await releaseLease(db, LEADER_LEASE, replicaId);
        return;
      }
      if (lease) {
        leaseUntil = lease.expiresAt.getTime();
        armExpiry();
        if (!leader) {
          leader = true;
          logger.info(
            { replica: replicaId, term: lease.term, leaseMs: ttlMs },
            'this replica leads: it runs the pipeline, delivery, schedules and the watchdog',
          );
          try {
            await opts.onElected();
          } catch (err) {
            // Half started (a read failed): this process does not lead; its lease goes back.
            logger.error({ err, replica: replicaId }, "the leader's work did not start");
            depose(`the leader's work did not start: ${err instanceof Error ? err.message : String(err)}`);
            await releaseLease(db, LEADER_LEASE, replicaId).catch(() => undefined);
          }
        }
      } else if (leader) {
        depose('another replica took the leader lease');
      }
    } catch (err) {
      logger.warn({ err, replica: replicaId, leader }, 'leader lease: the database did not answer');
    }
  }

  function armExpiry(): void {
    clearTimeout(expiry);
    expiry = setTimeout(
      () => {
        if (leader && now().getTime() >= leaseUntil - margin) depose('the leader lease could not be renewed in time');
      },
      Math.max(0, leaseUntil - margin - now().getTime()),
    );
    expiry.unref();
  }

  /** Stops leading and trying: this process leads no more (its supervisor restarts it as a follower). */
  function depose(why: string): void {
    leader = false;
    running = false;
    clearTimeout(timer);
    clearTimeout(expiry);
    logger.error({ replica: replicaId, why }, 'this replica no longer leads');
    opts.onDeposed(why);
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(
      () => {
        round = once().finally(() => {
          round = undefined;
          schedule();
        });
      },
      leader ? renewEvery : tryEvery,
    );
  }

  async function stopTrying(): Promise<void> {
    running = false;
    clearTimeout(timer);
    // A round stuck on a database that does not answer must not hold a shutdown: it is waited for a renewal's length at most.
    await within(round, renewEvery);
  }

  return {
    replicaId,
    isLeader: () => leader,
    start() {
      if (running) return;
      running = true;
      round = once().finally(() => {
        round = undefined;
        schedule();
      });
    },
    stopTrying,
    async stop() {
      await stopTrying();
      clearTimeout(expiry);
      if (leader) {
        leader = false;
        // Bounded as above: when the database does not answer, the lease simply expires.
        await within(
          releaseLease(db, LEADER_LEASE, replicaId).catch((err: unknown) => logger.warn({ err }, 'leader lease: could not give it up; it expires')),
          renewEvery,
        );
        logger.info({ replica: replicaId }, 'leader lease given up');
      }
    },
    async status() {
      const at = now();
      const seen = await readCluster(db, at, new Date(at.getTime() - 3 * ttlMs));
      return {
        replica: replicaId,
        leader,
        ...(seen.leaderId ? { leaderId: seen.leaderId } : {}),
        replicas: seen.replicas.map((r) => ({
          id: r.id,
          host: r.host,
          startedAt: r.startedAt.toISOString(),
          seenAt: r.seenAt.toISOString(),
          leader: r.id === seen.leaderId,
        })),
      };
    },
  };
}
