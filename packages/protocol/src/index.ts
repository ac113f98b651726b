// @affect/protocol: the one schema of the stream, shared by the server, the web app, the
// Node client and the tests. Nobody re-declares a message shape.
export * from './messages.ts';
export {
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  type Decoded,
  type ProtocolError,
} from './codec.ts';
