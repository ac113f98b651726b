// Messages to one client, never lost silently. uWebSockets.js drops a send once the socket
// holds more than maxBackpressure bytes, and ws buffers without limit; either way a client
// that stops reading must not cost the server unbounded memory. So: write while the socket
// is under its high-water mark, queue (bounded) above it, write the queue on drain, and
// when the queue is full drop its oldest message and count it. The count rides on the next
// result the client does get (ResultMessage.lostMessages).
import { encodeMessage, type ServerMessage } from '@affect/protocol';
import type { Connection } from './transport/types.ts';

export interface OutboxStats {
  /** Messages the socket took. */
  sent: number;
  /** Messages dropped (queue overflow, or refused by the library), reported or not. */
  lost: number;
}

export class Outbox {
  private readonly queue: ServerMessage[] = [];
  private unreportedLost = 0;
  readonly stats: OutboxStats = { sent: 0, lost: 0 };

  constructor(
    private readonly conn: Connection,
    private readonly maxQueued: number,
    private readonly highWaterBytes: number,
    private readonly onLost: (count: number) => void = () => {},
  ) {}

  /** Sends now if the socket has room, else queues. */
  push(message: ServerMessage): void {
    if (this.queue.length === 0 && this.conn.bufferedAmount() <= this.highWaterBytes) {
      this.write(message);
      return;
    }
    this.queue.push(message);
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.lose(1);
    }
  }

  /** The socket drained: write what waits while there is room. */
  flush(): void {
    while (this.queue.length > 0 && this.conn.bufferedAmount() <= this.highWaterBytes) {
      this.write(this.queue.shift()!);
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  private write(message: ServerMessage): void {
    let reported = 0;
    if (message.type === 'result') {
      reported = this.unreportedLost;
      message.lostMessages += reported;
      this.unreportedLost = 0;
    }
    if (this.conn.send(encodeMessage(message)) === 'dropped') {
      this.unreportedLost += reported;
      this.lose(1);
      return;
    }
    this.stats.sent++;
  }

  private lose(count: number): void {
    this.unreportedLost += count;
    this.stats.lost += count;
    this.onLost(count);
  }
}
