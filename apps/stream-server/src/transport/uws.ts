// The uWebSockets.js transport. On Node 20 / Debian 12 the loadable build is the npm alias
// "uWebSockets.js" → @trufflesuite/uws-js-unofficial (see STACK-NOTES). That package falls
// back to a ws-based imitation with only a console warning when its binary fails to load;
// we refuse the imitation, so `--transport uws` always means the native server.
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import type {
  Connection,
  ConnectionHandlers,
  HttpReply,
  RunningTransport,
  TransportHandlers,
  TransportOptions,
} from './types.ts';

const require = createRequire(import.meta.url);

interface SocketData {
  conn?: UwsConnection;
  handlers?: ConnectionHandlers;
}

class UwsConnection implements Connection {
  closed = false;
  constructor(
    private readonly ws: Uws.WebSocket<SocketData>,
    readonly ip: string,
    private readonly highWaterBytes: number,
  ) {}

  send(data: Uint8Array) {
    if (this.closed) return 'dropped' as const;
    // 1: written, 0: buffered (backpressure building), 2: dropped past maxBackpressure.
    const status = this.ws.send(data, true, false);
    if (status === 2) return 'dropped' as const;
    return status === 0 || this.ws.getBufferedAmount() > this.highWaterBytes
      ? ('backpressure' as const)
      : ('sent' as const);
  }

  bufferedAmount() {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string) {
    if (this.closed) return;
    this.ws.end(code, reason.slice(0, 123));
  }
}

/** Loads the native uWebSockets.js or throws, naming the way out. */
export function loadNativeUws(): { uws: typeof Uws; version: string } {
  const uws = require('uWebSockets.js') as typeof Uws;
  if (!String(uws.App).includes('[native code]')) {
    throw new Error(
      'uWebSockets.js loaded its JavaScript fallback, not the native server (its binary does not load on this ' +
        `Node ${process.versions.node} / ABI ${process.versions.modules}); run with --transport ws`,
    );
  }
  const pkg = require('uWebSockets.js/package.json') as { name: string; version: string };
  return { uws, version: `${pkg.name}@${pkg.version}` };
}

function reply(res: Uws.HttpResponse, r: HttpReply | undefined): void {
  const { status, contentType, body } = r ?? { status: 404, contentType: 'text/plain', body: 'not found\n' };
  res.cork(() => {
    res.writeStatus(
      status === 200 ? '200 OK' : status === 503 ? '503 Service Unavailable' : `${status} Not Found`,
    );
    res.writeHeader('content-type', contentType);
    res.end(body);
  });
}

export async function startUwsTransport(
  options: TransportOptions,
  handlers: TransportHandlers,
): Promise<RunningTransport> {
  const { uws, version } = loadNativeUws();
  const app = uws.App();
  const open = new Set<Uws.WebSocket<SocketData>>();

  app.ws<SocketData>(options.path, {
    maxPayloadLength: options.maxPayloadBytes,
    // Above our own high-water mark by the largest message we send, so the sends we make
    // are never the ones uWS drops; send() still checks.
    maxBackpressure: options.highWaterBytes * 4,
    closeOnBackpressureLimit: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    compression: uws.DISABLED,
    open(ws) {
      open.add(ws);
      const ip = Buffer.from(ws.getRemoteAddressAsText()).toString();
      const conn = new UwsConnection(ws, normalizeIp(ip), options.highWaterBytes);
      const data = ws.getUserData();
      data.conn = conn;
      data.handlers = handlers.open(conn);
    },
    message(ws, message) {
      // The ArrayBuffer is neutered when this returns; decoded crops must outlive it.
      ws.getUserData().handlers?.message(new Uint8Array(message.slice(0)));
    },
    drain(ws) {
      ws.getUserData().handlers?.drain();
    },
    close(ws, code, message) {
      open.delete(ws);
      const data = ws.getUserData();
      if (data.conn) data.conn.closed = true;
      data.handlers?.closed(code, Buffer.from(message).toString());
    },
  });
  app.get('/*', (res, req) => reply(res, handlers.http(req.getUrl())));
  app.any('/*', (res) => reply(res, { status: 404, contentType: 'text/plain', body: 'not found\n' }));

  const listenSocket = await new Promise<Uws.us_listen_socket>((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`uWebSockets.js could not listen on ${options.host}:${options.port} (in use?)`));
    });
  });
  const port = uws.us_socket_local_port(listenSocket as unknown as Uws.us_socket);
  let listening = true;
  const stopListening = () => {
    if (!listening) return;
    listening = false;
    uws.us_listen_socket_close(listenSocket);
  };
  return {
    name: 'uws',
    implementation: `uWebSockets.js native (${version})`,
    port,
    stopListening,
    async close() {
      stopListening();
      for (const ws of [...open]) ws.close();
      open.clear();
    },
  };
}

/** '::ffff:127.0.0.1' and uWS's long IPv6 forms of IPv4 addresses → '127.0.0.1'. */
export function normalizeIp(ip: string): string {
  const mapped = /^(?:0{0,4}:){5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (mapped) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return ip.replace(/^::ffff:/i, '');
}
