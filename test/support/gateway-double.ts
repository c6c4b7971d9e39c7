/**
 * Double of Discord's gateway (v10, JSON encoding, no compression), on `ws` at 127.0.0.1.
 *
 * It speaks the opening Discord documents: HELLO (op 10) on connect, IDENTIFY (op 2) checked
 * (token, intents, properties) and answered with READY (op 0), HEARTBEAT (op 1) answered with
 * HEARTBEAT_ACK (op 11), RESUME (op 6) answered with INVALID_SESSION (op 9, not resumable) so the
 * client identifies again. Dispatches carry increasing sequence numbers. `sendInteraction`
 * dispatches INTERACTION_CREATE to every ready session. discord.js finds the double through the
 * REST double's GET /gateway/bot (setGatewayUrl).
 */
import type { AddressInfo } from 'node:net';
import type { APIInteraction, APIUser } from 'discord-api-types/v10';
import { WebSocketServer, type WebSocket } from 'ws';

/** What a client sent in IDENTIFY. */
export interface IdentifyRecord {
  token: string;
  intents: number;
  properties: Record<string, unknown>;
  shard?: [number, number];
}

/** Options of startGatewayDouble. */
export interface GatewayDoubleOptions {
  /** The bot token IDENTIFY must carry (close 4004 otherwise). */
  token: string;
  /** The bot user READY reports. */
  user: APIUser;
  applicationId: string;
  /** Heartbeat interval sent in HELLO; short keeps tests fast. */
  heartbeatIntervalMs?: number;
}

/** The running gateway double. */
export interface GatewayDouble {
  /** ws:// URL (without query) for the REST double's /gateway/bot. */
  url: string;
  identifies: IdentifyRecord[];
  /** Heartbeats received (each answered with HEARTBEAT_ACK). */
  heartbeats: number;
  /** Query strings of the connections (v and encoding are checked). */
  connections: URLSearchParams[];
  /** Protocol problems seen (bad opcode, bad IDENTIFY, wrong version), for assertions. */
  errors: string[];
  /** Resolves once a session received READY. */
  whenReady(): Promise<void>;
  /** Dispatches INTERACTION_CREATE to every ready session; returns how many got it. */
  sendInteraction(payload: APIInteraction): number;
  stop(): Promise<void>;
}

interface Session {
  socket: WebSocket;
  seq: number;
  ready: boolean;
}

/** Gateway opcodes used here. */
const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, RESUME: 6, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11 } as const;

/** Starts the gateway double on a free loopback port. */
export async function startGatewayDouble(opts: GatewayDoubleOptions): Promise<GatewayDouble> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const sessions = new Set<Session>();
  const identifies: IdentifyRecord[] = [];
  const connections: URLSearchParams[] = [];
  const errors: string[] = [];
  const counters = { heartbeats: 0 };
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const send = (s: Session, payload: { op: number; d: unknown; t?: string | null }) => {
    const isDispatch = payload.op === OP.DISPATCH;
    if (isDispatch) s.seq += 1;
    s.socket.send(JSON.stringify({ op: payload.op, d: payload.d, s: isDispatch ? s.seq : null, t: isDispatch ? payload.t : null }));
  };

  const onIdentify = (s: Session, d: Record<string, unknown>) => {
    const record: IdentifyRecord = {
      token: typeof d.token === 'string' ? d.token : '',
      intents: Number(d.intents),
      properties: (d.properties ?? {}) as Record<string, unknown>,
      ...(Array.isArray(d.shard) ? { shard: d.shard as [number, number] } : {}),
    };
    identifies.push(record);
    if (record.token !== opts.token) {
      errors.push('IDENTIFY with a wrong token');
      s.socket.close(4004, 'Authentication failed.');
      return;
    }
    if (!Number.isInteger(record.intents) || !['os', 'browser', 'device'].every((k) => typeof record.properties[k] === 'string')) {
      errors.push('IDENTIFY without integer intents or without properties os/browser/device');
      s.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    send(s, {
      op: OP.DISPATCH,
      t: 'READY',
      d: {
        v: 10,
        user: opts.user,
        guilds: [],
        session_id: `session-${identifies.length}`,
        resume_gateway_url: url,
        shard: record.shard ?? [0, 1],
        application: { id: opts.applicationId, flags: 0 },
      },
    });
    s.ready = true;
    markReady();
  };

  wss.on('connection', (socket, req) => {
    const query = new URL(req.url ?? '/', 'ws://double').searchParams;
    connections.push(query);
    if (query.get('v') !== '10' || query.get('encoding') !== 'json') {
      errors.push(`connection with v=${query.get('v')} encoding=${query.get('encoding')}`);
      socket.close(4012, 'Invalid API version');
      return;
    }
    const s: Session = { socket, seq: 0, ready: false };
    sessions.add(s);
    socket.on('close', () => sessions.delete(s));
    socket.on('message', (raw) => {
      let msg: { op?: number; d?: unknown };
      try {
        msg = JSON.parse((Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(new Uint8Array(raw))).toString('utf8')) as {
          op?: number;
          d?: unknown;
        };
      } catch {
        errors.push('payload is not JSON');
        socket.close(4002, 'Error while decoding payload.');
        return;
      }
      switch (msg.op) {
        case OP.HEARTBEAT:
          counters.heartbeats += 1;
          send(s, { op: OP.HEARTBEAT_ACK, d: null });
          return;
        case OP.IDENTIFY:
          onIdentify(s, (msg.d ?? {}) as Record<string, unknown>);
          return;
        case OP.RESUME:
          send(s, { op: OP.INVALID_SESSION, d: false });
          return;
        default:
          errors.push(`unknown opcode ${String(msg.op)}`);
          socket.close(4001, 'Unknown opcode.');
      }
    });
    send(s, { op: OP.HELLO, d: { heartbeat_interval: opts.heartbeatIntervalMs ?? 1000 } });
  });

  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    url,
    identifies,
    connections,
    errors,
    get heartbeats() {
      return counters.heartbeats;
    },
    whenReady: () => ready,
    sendInteraction(payload) {
      let n = 0;
      for (const s of sessions) {
        if (!s.ready) continue;
        send(s, { op: OP.DISPATCH, t: 'INTERACTION_CREATE', d: payload });
        n += 1;
      }
      return n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.socket.terminate();
        wss.close(() => resolve());
      }),
  };
}
