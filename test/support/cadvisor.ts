import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/*
 * A cAdvisor-shaped exporter: /metrics in the Prometheus text format with the two series /top
 * reads, labelled as cAdvisor labels them (id, image, name; cpu="total" on the CPU counter) and,
 * like cAdvisor, with an explicit timestamp on every sample. The root cgroup (id="/", name="") is
 * the busiest series of all, as on a real host: a query that forgets `name!=""` ranks it first.
 *
 * Known rates in seconds, not minutes: `rate(...[5m])` divides by the whole 300 s, so a few
 * seconds of samples would read as a few percent of the true rate. The sample clock therefore
 * starts 6 minutes in the past on a 60 s grid and moves one grid step per scrape until it has
 * caught up with the wall clock (6 scrapes), then follows the wall clock on the same grid
 * (a repeated timestamp repeats its value, which Prometheus accepts). Each CPU counter is
 * `1000 + cores * (sample time - grid origin)`, so once caught up, rate over any 5m window ending
 * now is exactly `cores`: evenly spaced samples, none more than one step from either edge.
 */

/** One container the exporter reports. */
export interface FakeContainer {
  name: string;
  image: string;
  /** CPU use in cores: the counter grows by this many seconds per second. */
  cores: number;
  /** Working set in bytes (constant). */
  memoryBytes: number;
}

const MiB = 1024 * 1024;

/** api 0.5 core, db 0.25, nginx 0.05; memory ranks differently (db, api, nginx). */
export const DEFAULT_CONTAINERS: readonly FakeContainer[] = [
  { name: 'api', image: 'ghcr.io/acme/api:1.4.2', cores: 0.5, memoryBytes: 512 * MiB },
  { name: 'db', image: 'postgres:16.4', cores: 0.25, memoryBytes: 1536 * MiB },
  { name: 'nginx', image: 'nginx:1.27', cores: 0.05, memoryBytes: 24 * MiB },
];

/** The root cgroup: all containers and the host's own processes. */
const ROOT = { id: '/', cores: 1.5, memoryBytes: 6144 * MiB };
/** Counters start from a non-zero total, as on a host that has been up a while. */
const COUNTER_BASE_SECONDS = 1000;
/** How far back the sample clock starts: more than the 5m rate window plus one step. */
export const HISTORY_MS = 360_000;
/** Spacing of the sample timestamps. */
export const GRID_MS = 60_000;

/** Handle on a running exporter. */
export interface CadvisorHandle {
  url: string;
  port: number;
  /** `127.0.0.1:<port>`, for a scrape config. */
  target: string;
  containers: readonly FakeContainer[];
  /** How many times /metrics was served. */
  scrapes(): number;
  /** Whether the sample clock has reached the wall clock (5 minutes of history served). */
  caughtUp(): boolean;
  stop(): Promise<void>;
}

/** Quotes a label value for the text format. */
function labelValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

function labels(set: Record<string, string>): string {
  return `{${Object.entries(set)
    .map(([k, v]) => `${k}=${labelValue(v)}`)
    .join(',')}}`;
}

/** A container's cgroup id, as docker's cgroup driver names it. */
function cgroupId(name: string): string {
  const hex = Buffer.from(name.padEnd(32, '0')).toString('hex').slice(0, 64);
  return `/system.slice/docker-${hex}.scope`;
}

/**
 * The sample time of the `scrape`-th scrape (0-based): one grid step per scrape from `originMs`,
 * never past the last grid point at or before the wall clock `nowMs`.
 */
export function sampleTime(originMs: number, scrape: number, nowMs: number): number {
  const latest = originMs + Math.floor((nowMs - originMs) / GRID_MS) * GRID_MS;
  return Math.min(originMs + scrape * GRID_MS, latest);
}

/** The /metrics body for samples taken at `atMs` by a clock whose counters started at `originMs`. */
export function cadvisorMetrics(containers: readonly FakeContainer[], originMs: number, atMs: number): string {
  const elapsed = (atMs - originMs) / 1000;
  const rows = [
    { id: ROOT.id, name: '', image: '', cores: ROOT.cores, memoryBytes: ROOT.memoryBytes },
    ...containers.map((c) => ({ id: cgroupId(c.name), name: c.name, image: c.image, cores: c.cores, memoryBytes: c.memoryBytes })),
  ];
  const lines = [
    '# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.',
    '# TYPE container_cpu_usage_seconds_total counter',
    ...rows.map(
      (r) =>
        `container_cpu_usage_seconds_total${labels({ cpu: 'total', id: r.id, image: r.image, name: r.name })} ${COUNTER_BASE_SECONDS + r.cores * elapsed} ${atMs}`,
    ),
    '# HELP container_memory_working_set_bytes Current working set in bytes.',
    '# TYPE container_memory_working_set_bytes gauge',
    ...rows.map((r) => `container_memory_working_set_bytes${labels({ id: r.id, image: r.image, name: r.name })} ${r.memoryBytes} ${atMs}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Starts the exporter on a free 127.0.0.1 port. */
export async function startCadvisor(opts: { containers?: readonly FakeContainer[] } = {}): Promise<CadvisorHandle> {
  const containers = opts.containers ?? DEFAULT_CONTAINERS;
  const originMs = Date.now() - HISTORY_MS;
  let served = 0;
  let lastAt = originMs;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    lastAt = sampleTime(originMs, served++, Date.now());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(cadvisorMetrics(containers, originMs, lastAt));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    target: `127.0.0.1:${port}`,
    containers,
    scrapes: () => served,
    caughtUp: () => Date.now() - lastAt < GRID_MS,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
