import { request, type OutgoingHttpHeaders } from 'node:http';

/** The answer to a chunked POST, and whether it really went out chunked (no Content-Length). */
export interface ChunkedResult {
  status: number;
  body: string;
  chunked: boolean;
}

/** POSTs a body in several chunks with no Content-Length (Transfer-Encoding: chunked). */
export function postChunked(url: string, chunks: Buffer[], headers: OutgoingHttpHeaders = { 'content-type': 'application/json' }): Promise<ChunkedResult> {
  return new Promise((resolve, reject) => {
    let chunked = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, chunked }));
    });
    // The server may answer 413 and close while chunks are still going out; only the answer matters.
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    let i = 0;
    const next = () => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i++]!, () => setImmediate(next));
      // The first write fixes the framing: chunked, since no Content-Length was set.
      if (i === 1) chunked = req.chunkedEncoding && req.getHeader('content-length') === undefined;
    };
    next();
  });
}
