// The outbox against a socket that backs up on command: nothing is lost without being
// counted, memory stays bounded, and the count reaches the client in the next result.
import { describe, expect, test } from 'vitest';
import { decodeServerMessage, type ResultMessage, type ServerMessage } from '@affect/protocol';
import { Outbox } from './outbox.ts';
import type { Connection, SendStatus } from './transport/types.ts';

/** A socket whose buffer fills with every send and empties when told to. */
class ScriptedSocket implements Connection {
  readonly ip = '127.0.0.1';
  buffered = 0;
  written: ServerMessage[] = [];
  dropNext = false;
  send(data: Uint8Array): SendStatus {
    if (this.dropNext) {
      this.dropNext = false;
      return 'dropped';
    }
    const decoded = decodeServerMessage(data);
    if (!decoded.ok) throw new Error(decoded.error.message);
    this.written.push(decoded.message);
    this.buffered += data.byteLength;
    return 'sent';
  }
  bufferedAmount() {
    return this.buffered;
  }
  close() {}
}

const result = (frameId: number): ResultMessage => ({
  type: 'result',
  frameId,
  capturedAt: 0,
  faces: [],
  timings: { queue: 0, decode: 0, preprocess: 0, inference: 0, total: 0 },
  batchSize: 0,
  dropped: 0,
  lostMessages: 0,
});

describe('Outbox', () => {
  test('writes straight through while the socket has room', () => {
    const socket = new ScriptedSocket();
    const outbox = new Outbox(socket, 4, 1 << 20);
    for (let i = 0; i < 10; i++) outbox.push(result(i));
    expect(socket.written.map((m) => (m as ResultMessage).frameId)).toEqual([...Array(10).keys()]);
    expect(outbox.stats).toEqual({ sent: 10, lost: 0 });
  });

  test('backed up: queues up to its bound, drops the oldest beyond, reports the count in the next result', () => {
    const socket = new ScriptedSocket();
    let lostCallback = 0;
    const outbox = new Outbox(socket, 3, 1000, (n) => (lostCallback += n));
    socket.buffered = 1001; // the client stopped reading
    for (let i = 0; i < 8; i++) outbox.push(result(i));
    expect(socket.written).toHaveLength(0);
    expect(outbox.queued).toBe(3);
    expect(outbox.stats.lost).toBe(5);
    expect(lostCallback).toBe(5);

    socket.buffered = 0; // drained
    outbox.flush();
    const frames = socket.written.map((m) => (m as ResultMessage).frameId);
    expect(frames).toEqual([5, 6, 7]); // latest wins
    expect((socket.written[0] as ResultMessage).lostMessages).toBe(5);
    expect((socket.written[1] as ResultMessage).lostMessages).toBe(0);
    expect(outbox.stats).toEqual({ sent: 3, lost: 5 });
  });

  test('flush stops again when the socket fills up mid-way', () => {
    const socket = new ScriptedSocket();
    const outbox = new Outbox(socket, 10, 150);
    socket.buffered = 1000;
    for (let i = 0; i < 6; i++) outbox.push(result(i));
    socket.buffered = 0;
    outbox.flush(); // each result is ~100 bytes: two fit under 150
    expect(socket.written.length).toBeLessThan(6);
    expect(outbox.queued).toBe(6 - socket.written.length);
    socket.buffered = 0;
    outbox.flush();
    socket.buffered = 0;
    outbox.flush();
    socket.buffered = 0;
    outbox.flush();
    expect(socket.written.map((m) => (m as ResultMessage).frameId)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a message the library drops is counted and its carried count is not lost', () => {
    const socket = new ScriptedSocket();
    const outbox = new Outbox(socket, 1, 100);
    socket.buffered = 200;
    outbox.push(result(0));
    outbox.push(result(1)); // result 0 is dropped from the queue: 1 lost
    socket.buffered = 0;
    socket.dropNext = true;
    outbox.flush(); // result 1 carries lostMessages 1 but the library drops it: now 2 lost
    outbox.push(result(2));
    expect((socket.written[0] as ResultMessage).frameId).toBe(2);
    expect((socket.written[0] as ResultMessage).lostMessages).toBe(2);
    expect(outbox.stats).toEqual({ sent: 1, lost: 2 });
  });
});
