import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pass-through HTTP proxy on 127.0.0.1 that answers late (a slow or remote backend), or never (a black hole). */
export interface DelayProxy {
  /** The target's URL as seen through the proxy (same path prefix). */
  url: string;
  /** Added before each request is forwarded; may be changed while running. */
  delayMs: number;
  /** While true, requests are read and never answered nor forwarded (those already held stay so). */
  blackHole: boolean;
  /** Requests swallowed by the black hole so far. */
  readonly swallowed: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` that holds every request `delayMs` before forwarding it. */
export async function startDelayProxy(target: string, delayMs = 0): Promise<DelayProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const state = { delayMs, blackHole: false, swallowed: 0 };
  const server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (state.blackHole) {
        state.swallowed++;
        return; // read, never answered: the client's timeout is all that ends it
      }
      setTimeout(() => {
        const headers = { ...req.headers, host: to.host };
        const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers, agent }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
        upstream.end(Buffer.concat(body));
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname.replace(/\/$/, '')}`,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    get blackHole() {
      return state.blackHole;
    },
    set blackHole(v: boolean) {
      state.blackHole = v;
    },
    get swallowed() {
      return state.swallowed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
