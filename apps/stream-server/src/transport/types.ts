// What the server needs from a WebSocket + HTTP library, so uWebSockets.js and ws are
// interchangeable (`--transport uws|ws`) and the sessions never see either one.

/** What happened to one send. */
export type SendStatus =
  /** Written (or queued in the library and under its limit). */
  | 'sent'
  /** Accepted, but the socket is backed up: wait for drain before sending more. */
  | 'backpressure'
  /** The library dropped it (uWS past maxBackpressure, or the socket is closing). */
  | 'dropped';

export interface Connection {
  /** The peer's IP address as text. */
  readonly ip: string;
  send(data: Uint8Array): SendStatus;
  /** Bytes waiting to be written to the socket. */
  bufferedAmount(): number;
  /** Closes with a WebSocket close frame carrying code and reason (≤ 123 bytes). */
  close(code: number, reason: string): void;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

export interface ConnectionHandlers {
  message(data: Uint8Array): void;
  /** The socket wrote out what it had buffered: send what waits. */
  drain(): void;
  closed(code: number, reason: string): void;
}

export interface TransportHandlers {
  /** A WebSocket opened on the stream path; returns its handlers. */
  open(conn: Connection): ConnectionHandlers;
  /** A plain HTTP GET; undefined answers 404. */
  http(path: string): HttpReply | undefined;
}

export interface TransportOptions {
  host: string;
  port: number;
  path: string;
  /**
   * Messages up to this size reach the server; larger ones make the library close the
   * connection (1009 with ws, an abrupt close with uWS). The server's own, smaller limit
   * answers with an error instead, so this is a memory bound, not the limit clients meet.
   */
  maxPayloadBytes: number;
  /** Above this many buffered bytes send() reports backpressure. */
  highWaterBytes: number;
}

export interface RunningTransport {
  readonly name: 'uws' | 'ws';
  /** The library that actually runs, e.g. 'uWebSockets.js 20.30 (native)'. */
  readonly implementation: string;
  readonly port: number;
  /** Stop accepting connections and HTTP requests; open sockets stay. */
  stopListening(): void;
  /** Force-close whatever is still open and release everything. */
  close(): Promise<void>;
}
