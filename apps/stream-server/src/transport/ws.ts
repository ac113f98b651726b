// The `ws` transport: Node's http server plus ws@8, the reference implementation. Same
// behaviour as the uWS one, including backpressure: ws buffers without limit, so send()
// reports backpressure above the high-water mark and the write callbacks signal drain.
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { WebSocketServer, WebSocket } from 'ws';
import { normalizeIp } from './uws.ts';
import type { Connection, RunningTransport, TransportHandlers, TransportOptions } from './types.ts';

const require = createRequire(import.meta.url);

class WsConnection implements Connection {
  constructor(
    private readonly ws: WebSocket,
    readonly ip: string,
    private readonly highWaterBytes: number,
    private readonly onWritten: () => void,
  ) {}

  send(data: Uint8Array) {
    if (this.ws.readyState !== WebSocket.OPEN) return 'dropped' as const;
    this.ws.send(data, { binary: true }, (err) => {
      if (!err && this.ws.bufferedAmount <= this.highWaterBytes) this.onWritten();
    });
    return this.ws.bufferedAmount > this.highWaterBytes ? ('backpressure' as const) : ('sent' as const);
  }

  bufferedAmount() {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason.slice(0, 123));
  }
}

export async function startWsTransport(
  options: TransportOptions,
  handlers: TransportHandlers,
): Promise<RunningTransport> {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
  });
  const server = createServer((req, res) => {
    const r = req.method === 'GET' ? handlers.http(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    res.writeHead(r?.status ?? 404, { 'content-type': r?.contentType ?? 'text/plain' });
    res.end(r?.body ?? 'not found\n');
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const ip = normalizeIp(req.socket.remoteAddress ?? 'unknown');
      let handlers_: ReturnType<TransportHandlers['open']> | undefined;
      const conn = new WsConnection(ws, ip, options.highWaterBytes, () => handlers_?.drain());
      handlers_ = handlers.open(conn);
      const h = handlers_;
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const bytes = Array.isArray(data)
          ? Buffer.concat(data)
          : data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : data;
        h.message(bytes);
      });
      ws.on('close', (code, reason) => h.closed(code, reason.toString()));
      ws.on('error', () => {}); // e.g. a payload over maxPayload: ws closes with 1009 itself
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const version = (require('ws/package.json') as { version: string }).version;
  let listening = true;
  const stopListening = () => {
    if (!listening) return;
    listening = false;
    server.close();
  };
  return {
    name: 'ws',
    implementation: `ws@${version} on node:http`,
    port,
    stopListening,
    async close() {
      stopListening();
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
