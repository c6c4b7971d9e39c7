import { describe, expect, it } from 'vitest';
import { groupPatterns, templateOf, type PatternInput } from '../../src/render/patterns.js';
import { loadLokiFixture } from '../support/loki-double.js';

interface RecordedLine {
  ns: string;
  line: string;
  labels: Record<string, string>;
}

/** Every line of the recorded Loki answer (a Spring Boot API, nginx and MySQL under Docker). */
function recordedLines(): RecordedLine[] {
  const json = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
    data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
  };
  return json.data.result.flatMap((s) => s.values.map(([ns, line]) => ({ ns, line, labels: s.stream })));
}

function recorded(needle: string): string {
  const found = recordedLines().filter((l) => l.line.includes(needle));
  if (found.length !== 1) throw new Error(`expected one recorded line with ${needle}, found ${found.length}`);
  return found[0]!.line;
}

describe('templateOf on the recorded Loki lines', () => {
  it.each([
    [
      'Spring error, request thread 3',
      'exec-3',
      '<ts> ERROR <num> --- [nio-<num>-exec-<num>] c.e.api.OrderController : Request failed: org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection',
    ],
    [
      'Spring error, request thread 7',
      'exec-7',
      '<ts> ERROR <num> --- [nio-<num>-exec-<num>] c.e.api.OrderController : Request failed: org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection',
    ],
    [
      'HikariCP timeout',
      'HikariPool-1',
      '<ts> ERROR <num> --- [nio-<num>-exec-<num>] com.zaxxer.hikari.pool.HikariPool : HikariPool-<num> - Connection is not available, request timed out after <num>ms.',
    ],
    ['Spring start-up', 'Started Application', '<ts> INFO <num> --- [main] c.e.api.Application : Started Application in <num> seconds'],
    ['MySQL warning', 'MY-010055', "<ts> <num> [Warning] [MY-<num>] [Server] IP address '<ip>' could not be resolved: Name or service not known"],
    [
      'MySQL JSON line',
      'Aborted connection',
      `{"ts":"<ts>","level":"error","msg":"Aborted connection <num> to db: '<str>' user: '<str>' host: '<ip>' (Got timeout reading communication packets)"}`,
    ],
    ['nginx 502', '" 502 ', '<ip> - - [<ts>] "GET /api/orders HTTP/<num>" <num> <num> "<str>" "<str>"'],
    ['nginx 200', '" 200 ', '<ip> - - [<ts>] "GET /api/orders HTTP/<num>" <num> <num> "<str>" "<str>"'],
  ])('%s', (_name, needle, pattern) => {
    expect(templateOf(recorded(needle))).toBe(pattern);
  });
});

describe('templateOf on other real-world shapes', () => {
  it.each([
    [
      'nginx error log',
      '2026/11/21 09:01:20 [error] 29#29: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 172.18.0.1, server: _, request: "GET /api/orders/81723 HTTP/1.1", upstream: "http://172.18.0.4:8080/api/orders/81723", host: "app-1"',
      '<ts> [error] <num>#<num>: *<num> connect() failed (<num>: Connection refused) while connecting to upstream, client: <ip>, server: _, request: "GET /api/orders/<num> HTTP/<num>", upstream: "http://<ip>:<num>/api/orders/<num>", host: "<str>"',
    ],
    [
      'nginx access log with a request id',
      '10.0.3.7 - - [21/Nov/2026:09:03:11 +0000] "POST /api/orders?id=4bf92f3535b3fe1b HTTP/2.0" 500 0 "-" "okhttp/4.12.0" rt=0.250',
      '<ip> - - [<ts>] "POST /api/orders?id=<hex> HTTP/<num>" <num> <num> "<str>" "<str>" rt=<num>',
    ],
    [
      'Spring stack frame',
      '\tat com.example.api.OrderService.place(OrderService.java:118) ~[app.jar:1.4.2]',
      'at com.example.api.OrderService.place(OrderService.java:<num>) ~[app.jar:1.4.2]',
    ],
    [
      'Spring with a trace id',
      '2026-11-21T09:01:10.123+01:00  WARN 1 --- [api] [nio-8080-exec-9] [65a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5-1a2b3c4d5e6f7a8b] o.h.e.j.s.SqlExceptionHelper : SQL Error: 1205, SQLState: 40001',
      '<ts> WARN <num> --- [api] [nio-<num>-exec-<num>] [<hex>-<hex>] o.h.e.j.s.SqlExceptionHelper : SQL Error: <num>, SQLState: <num>',
    ],
    [
      'MySQL error log',
      '2026-11-21T09:05:00.123456Z 8 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11',
      '<ts> <num> [ERROR] [MY-<num>] [InnoDB] Unable to lock ./ibdata1 error: <num>',
    ],
    [
      'MySQL slow query',
      '# Query_time: 12.004561  Lock_time: 0.000102 Rows_sent: 1  Rows_examined: 5000000',
      '# Query_time: <num> Lock_time: <num> Rows_sent: <num> Rows_examined: <num>',
    ],
    [
      'JSON with ids and numbers',
      '{"time":"2026-11-21T09:01:10Z","level":"ERROR","logger":"orders","msg":"payment failed","order_id":81723,"request_id":"123e4567-e89b-12d3-a456-426614174000","user":"bob","latency_ms":12.5,"retry":true}',
      '{"time":"<ts>","level":"ERROR","logger":"orders","msg":"payment failed","order_id":<num>,"request_id":"<uuid>","user":"<str>","latency_ms":<num>,"retry":true}',
    ],
    [
      'nested JSON',
      '{"level":"warn","http":{"method":"GET","status":503,"client_ip":"10.1.2.3"},"msg":"upstream 10.1.2.9 slow"}',
      '{"level":"warn","http":{"method":"GET","status":<num>,"client_ip":"<ip>"},"msg":"upstream <ip> slow"}',
    ],
    [
      'logfmt',
      'level=error ts=2026-11-21T09:01:20.123Z caller=main.go:42 msg="request failed" trace_id=4bf92f3535b3fe1b5a4e3f4a97dcf1e2 took=12.5ms',
      'level=error ts=<ts> caller=main.go:<num> msg="request failed" trace_id=<hex> took=<num>ms',
    ],
    [
      'syslog with IPv6',
      'Nov 21 09:01:20 app-1 sshd[1234]: Failed password for root from 2001:db8::7 port 51234 ssh2',
      '<ts> app-<num> sshd[<num>]: Failed password for root from <ip> port <num> ssh2',
    ],
    [
      'Go panic',
      'panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5b2c]',
      'panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation code=<hex> addr=<hex> pc=<hex>]',
    ],
    ['random ids and versions', 'job Xk9mP2qR7tL4 on node-3 finished, api v1.4.2', 'job <id> on node-<num> finished, api v1.4.2'],
    ['secrets masked before grouping', 'login failed password=hunter2 for 10.0.0.7', 'login failed password=[redacted] for <ip>'],
  ])('%s', (_name, line, pattern) => {
    expect(templateOf(line)).toBe(pattern);
  });
});

describe('groupPatterns', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 9, 0, s));

  it('groups the recorded lines: same shape, one pattern with a count and the newest example', () => {
    const input: PatternInput[] = recordedLines().map((l) => ({
      at: new Date(Number(BigInt(l.ns) / 1_000_000n)),
      line: l.line,
      source: l.labels.container_name,
    }));
    const groups = groupPatterns(input);
    expect(groups.map((g) => g.count).reduce((a, b) => a + b)).toBe(input.length);
    expect(groups).toHaveLength(7);
    const [first, second] = groups;
    // Two shapes occur twice; the one seen last comes first.
    expect([first!.count, second!.count]).toEqual([2, 2]);
    expect(first!.source).toBe('nginx');
    expect(first!.example).toBe(recorded('" 200 '));
    expect(second!.source).toBe('api');
    expect(second!.example).toBe(recorded('exec-7'));
    expect(second!.firstAt.getTime()).toBeLessThan(second!.exampleAt.getTime());
    expect(groups.slice(2).every((g) => g.count === 1 && g.firstAt.getTime() === g.exampleAt.getTime())).toBe(true);
  });

  it('orders by count, then by the newest occurrence', () => {
    const groups = groupPatterns([
      { at: at(1), line: 'a 1' },
      { at: at(2), line: 'b x' },
      { at: at(3), line: 'a 2' },
      { at: at(4), line: 'c x' },
    ]);
    expect(groups.map((g) => [g.pattern, g.count])).toEqual([
      ['a <num>', 2],
      ['c x', 1],
      ['b x', 1],
    ]);
  });

  it('names the source only when every line of a pattern shares it', () => {
    const groups = groupPatterns([
      { at: at(1), line: 'timeout 1', source: 'api' },
      { at: at(2), line: 'timeout 2', source: 'worker' },
      { at: at(3), line: 'boom', source: 'api' },
    ]);
    expect(groups.find((g) => g.pattern === 'timeout <num>')?.source).toBeUndefined();
    expect(groups.find((g) => g.pattern === 'boom')?.source).toBe('api');
  });

  it('groups lines that differ only in a secret, and never keeps the secret', () => {
    const groups = groupPatterns([
      { at: at(1), line: 'auth failed token=abc123' },
      { at: at(2), line: 'auth failed token=zzz999' },
    ]);
    expect(groups).toEqual([{ pattern: 'auth failed token=[redacted]', count: 2, example: 'auth failed token=[redacted]', exampleAt: at(2), firstAt: at(1) }]);
  });

  it('finds nothing in no lines', () => {
    expect(groupPatterns([])).toEqual([]);
  });
});
