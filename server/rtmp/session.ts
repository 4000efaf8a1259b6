// RTMP 1.0 spec §7.2: one connection's NetConnection / NetStream state machine.
// It takes received bytes through the handshake and chunk reader, and writes
// replies to a Transport. It never touches a socket itself, so tests drive it
// with byte arrays and a fake transport.
import { ProtocolError } from '../errors.js';
import type { LiveStream, PublisherInfo } from '../hub/live-stream.js';
import type { Subscriber } from '../hub/subscriber.js';
import type { Logger } from '../log.js';
import { ChunkStreamReader, type RtmpMessage } from './chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from './chunk-writer.js';
import { answerConnect } from './connect.js';
import {
  commandMessage, decodeCommand, error, onStatus, result, splitQuery, status,
  type Command,
} from './commands.js';
import { ServerHandshake } from './handshake.js';
import { HeldMessages } from './held-messages.js';
import { ingestMessage } from './ingest.js';
import {
  acknowledgement, MessageType, userControlAnswer, readU32Payload, splitAggregate, userControl, UserControlEvent,
} from './messages.js';
import { OUT_CHUNK_SIZE } from './media-output.js';
import { RtmpPlaySink } from './play-sink.js';
import { Rc4Transport, type StreamCipher } from './rtmpe.js';
import { WINDOW_ACK_SIZE, withoutQuery, type SessionOptions, type Transport } from './session-contract.js';

export type { AccessAction, AccessCheck, AccessRequest, SessionOptions, Transport } from './session-contract.js';

export type SessionRole = 'handshake' | 'connecting' | 'connected' | 'publishing' | 'playing' | 'closed';

let nextSessionId = 1;

export class RtmpSession {
  readonly id = `rtmp-${nextSessionId++}`;
  readonly transport: Transport;
  readonly protocol: 'rtmp' | 'rtmps' | 'rtmpt';
  /** the label of access checks, ended sessions and players as viewers: RTMPS counts as RTMP there */
  readonly #label: 'rtmp' | 'rtmpt';
  role: SessionRole = 'handshake';
  app = '';
  /** the stream key this session publishes or plays, once it does */
  streamKey = '';
  closeReason: string | null = null;

  #opts: SessionOptions;
  #log: Logger;
  #handshake: ServerHandshake | null;
  /** where replies and media go: the transport, or after an RTMPE handshake, RC4 in front of it */
  #wire: Transport;
  /** RTMPE: decrypts everything received after C2 */
  #decrypt: StreamCipher | null = null;
  #reader: ChunkStreamReader;
  #writer = new ChunkStreamWriter();
  #amf3 = false;
  #nextStreamId = 1;
  #peerWindow = 0;
  #lastAck = 0;
  #publishStreamId = 0;
  #stream: LiveStream | null = null;
  #publisher: PublisherInfo | null = null;
  #subscriber: Subscriber | null = null;
  /** a publish or play waiting for the access check */
  #pending = false;
  #held = new HeldMessages();

  constructor(transport: Transport, opts: SessionOptions) {
    this.transport = transport;
    this.protocol = opts.protocol ?? 'rtmp';
    this.#label = this.protocol === 'rtmpt' ? 'rtmpt' : 'rtmp';
    this.#wire = transport;
    this.#opts = opts;
    this.#handshake = new ServerHandshake({ rtmpe: opts.rtmpe ?? true });
    this.#log = opts.log.child({ session: this.id, address: transport.remoteAddress, ...(this.protocol === 'rtmpt' ? { protocol: 'rtmpt' } : {}) });
    this.#reader = new ChunkStreamReader(
      (m) => this.#onMessage(m),
      opts.maxMessageBytes !== undefined ? { maxMessageBytes: opts.maxMessageBytes } : {},
    );
  }

  /** The chunk size the peer sends with (128 until it says otherwise). */
  get peerChunkSize(): number {
    return this.#reader.chunkSize;
  }

  /** Feed received bytes. Bad input closes this connection with one log line; nothing is thrown. */
  receive(bytes: Buffer): void {
    if (this.role === 'closed') return;
    try {
      if (this.#handshake !== null) {
        const r = this.#handshake.push(bytes);
        if (r.send !== null) this.transport.write(r.send);
        if (!r.done) return;
        const keys = this.#handshake.encryption;
        this.#handshake = null;
        this.role = 'connecting';
        if (keys !== null) {
          this.#wire = new Rc4Transport(this.transport, keys.encrypt);
          this.#decrypt = keys.decrypt;
          this.#log.info('rtmpe handshake complete');
        }
        if (r.rest === null) return;
        bytes = r.rest;
      }
      if (this.#decrypt !== null) bytes = this.#decrypt.update(bytes) as Buffer;
      this.#reader.push(bytes);
      if ((this.role as SessionRole) !== 'closed') this.#maybeAcknowledge();
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#opts.onProtocolError?.(err.code);
        this.close(`${err.code} error: ${err.message}`);
        return;
      }
      this.close(`internal error: ${(err as Error).message}`);
      this.#log.error({ err }, 'unexpected error in RTMP session');
    }
  }

  /** The peer went away or the server closes this session. Safe to call twice. */
  close(reason: string): void {
    if (this.role === 'closed') return;
    const wasRole = this.role;
    this.role = 'closed';
    this.closeReason = reason;
    this.#stopPublishing();
    this.#stopPlaying(reason);
    this.#log.info({ role: wasRole, app: this.app, reason }, 'rtmp session ended');
    this.transport.close();
  }

  #send(msg: OutgoingMessage): void {
    if (this.role === 'closed') return;
    this.#wire.write(this.#writer.encode(msg));
  }

  #maybeAcknowledge(): void {
    if (this.#peerWindow > 0 && this.#reader.bytesReceived - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = this.#reader.bytesReceived;
      this.#send(acknowledgement(this.#reader.bytesReceived));
    }
  }

  #onMessage(msg: RtmpMessage): void {
    if (this.role === 'closed') return;
    switch (msg.type) {
      case MessageType.SetChunkSize:
        this.#log.debug({ chunkSize: this.#reader.chunkSize }, 'peer set chunk size');
        return;
      case MessageType.Abort:
      case MessageType.Acknowledgement:
      case MessageType.SetPeerBandwidth:
        return; // the reader applied the first two; the others need nothing from us
      case MessageType.WindowAckSize:
        this.#peerWindow = readU32Payload(msg, 'Window Acknowledgement Size');
        return;
      case MessageType.UserControl: {
        const answer = userControlAnswer(msg.payload);
        if (answer !== null) this.#send(answer);
        return;
      }
      case MessageType.Audio:
      case MessageType.Video:
        this.#onMedia(msg);
        return;
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        this.#onData(msg);
        return;
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.#onCommand(decodeCommand(msg.type, msg.payload, this.#opts.amfLimits), msg);
        return;
      case MessageType.Aggregate:
        for (const sub of splitAggregate(msg)) this.#onMessage(sub);
        return;
      case MessageType.SharedObjectAmf0:
      case MessageType.SharedObjectAmf3:
        return; // shared objects are not supported; ignoring them harms no one
      default:
        throw new ProtocolError('message', `unknown message type ${msg.type}`);
    }
  }

  #onMedia(msg: RtmpMessage): void {
    if (this.role !== 'publishing' || this.#stream === null) {
      // Media racing a pending access check is dropped; media from anyone else is a protocol error.
      if (this.#pending) {
        this.#held.hold(msg);
        return;
      }
      throw new ProtocolError('message', `media message (type ${msg.type}) before publish`);
    }
    if (msg.streamId !== this.#publishStreamId) return;
    ingestMessage(this.#stream, msg, this.#opts.amfLimits);
  }

  #onData(msg: RtmpMessage): void {
    if (this.role !== 'publishing' || this.#stream === null) return; // e.g. a player's data message
    if (msg.streamId !== this.#publishStreamId) return;
    ingestMessage(this.#stream, msg, this.#opts.amfLimits);
  }

  #onCommand(cmd: Command, msg: RtmpMessage): void {
    if (cmd.name !== 'connect' && this.role === 'connecting') {
      throw new ProtocolError('command', `${cmd.name === 'other' ? cmd.method : cmd.name} before connect`);
    }
    const amf3 = this.#amf3;
    switch (cmd.name) {
      case 'connect':
        this.#connect(cmd, msg.type === MessageType.CommandAmf3);
        return;
      case 'createStream':
        this.#send(result(cmd.txn, null, this.#nextStreamId++, amf3));
        return;
      case 'releaseStream':
      case 'FCUnpublish':
      case 'FCUnsubscribe':
        this.#send(result(cmd.txn, null, undefined, amf3));
        return;
      case 'FCPublish':
        this.#send(commandMessage(['onFCPublish', 0, null, status('status', 'NetStream.Publish.Start', cmd.streamName)], 0, amf3));
        this.#send(result(cmd.txn, null, undefined, amf3));
        return;
      case 'FCSubscribe':
        this.#send(commandMessage(['onFCSubscribe', 0, null, status('status', 'NetStream.Play.Start', cmd.streamName)], 0, amf3));
        return;
      case 'publish':
        this.#publish(cmd.streamName, msg.streamId);
        return;
      case 'play':
        this.#play(cmd.streamName, msg.streamId);
        return;
      case 'deleteStream':
      case 'closeStream':
        this.#stopPublishing();
        this.#stopPlaying('player closed the stream');
        if (this.role === 'publishing' || this.role === 'playing') this.role = 'connected';
        return;
      case 'reply':
        return;
      case 'other':
        // getStreamLength, checkBandwidth and friends: a polite refusal keeps clients going.
        if (cmd.txn !== 0) {
          this.#send(error(cmd.txn, status('error', 'NetConnection.Call.Failed', `Method not found (${cmd.method}).`), amf3));
        }
        return;
    }
  }

  #connect(cmd: Extract<Command, { name: 'connect' }>, amf3: boolean): void {
    if (this.role !== 'connecting') throw new ProtocolError('command', 'second connect on one connection');
    const answer = answerConnect(cmd, amf3, this.#opts.windowAckSize ?? WINDOW_ACK_SIZE);
    this.#amf3 = answer.amf3;
    if (!answer.ok) {
      this.#opts.onLimit?.('stream-name');
      this.#send(answer.reply);
      this.close(answer.reason);
      return;
    }
    this.app = answer.app;
    this.role = 'connected';
    for (const msg of answer.control) this.#send(msg);
    this.#writer.setChunkSize(OUT_CHUNK_SIZE);
    this.#send(answer.result);
    this.#log.info({ app: answer.app, ...answer.logged }, 'rtmp session connected');
  }

  /**
   * Ask the access policy. Without one the answer is immediate, so a publish
   * completes before any message pipelined behind it is read.
   */
  #checkAccess(action: 'publish' | 'play', key: string, query: URLSearchParams, then: (denied: string | null) => void): void {
    const check = this.#opts.access;
    if (check === undefined) {
      then(null);
      return;
    }
    this.#pending = true;
    Promise.resolve()
      .then(() => check({ action, app: this.app, key, query, address: this.transport.remoteAddress, protocol: this.#label }))
      .catch((err: unknown) => `access check failed: ${(err as Error).message}`)
      .then((denied) => {
        this.#pending = false;
        // The connection may have closed while the check ran.
        if (this.role === 'closed') return;
        then(denied);
        this.#replayHeld();
      });
  }

  /** Messages that arrived while a publish waited for its access check go to the stream in order. */
  #replayHeld(): void {
    const held = this.#held.takeAll();
    if (this.role !== 'publishing') return;
    try {
      for (const msg of held) this.#onMessage(msg);
    } catch (err) {
      if (err instanceof ProtocolError) this.close(`${err.code} error: ${err.message}`);
      else throw err;
    }
  }

  #publish(rawName: string, streamId: number): void {
    const badName = (why: string): void => {
      this.#send(onStatus(streamId, status('error', 'NetStream.Publish.BadName', why), this.#amf3));
      this.close(`publish refused: ${why}`);
    };
    if (this.role !== 'connected' || this.#pending) return badName('publish on a connection that already publishes or plays');
    const path = splitQuery(rawName);
    // Only the part before '?' is shown: the query may carry a signature (sig=), and the close
    // reason goes into the log line.
    if (path === null) {
      this.#opts.onLimit?.('stream-name');
      return badName(`invalid stream key ${JSON.stringify(withoutQuery(rawName).slice(0, 80))}`);
    }
    this.#checkAccess('publish', path.name, path.query, (denied) => {
      if (denied !== null) return badName(denied);
      const session = this;
      const publisher: PublisherInfo = {
        id: this.id,
        address: this.transport.remoteAddress,
        protocol: this.protocol,
        kick(reason: string) {
          session.close(reason);
        },
      };
      const r = this.#opts.hub.publish(this.app, path.name, publisher);
      if (!r.ok) return badName(r.detail);
      this.#stream = r.stream;
      this.#publisher = publisher;
      this.#publishStreamId = streamId;
      this.streamKey = path.name;
      this.role = 'publishing';
      this.#send(userControl(UserControlEvent.StreamBegin, streamId));
      this.#send(onStatus(streamId, status('status', 'NetStream.Publish.Start', `${r.stream.name} is now published.`), this.#amf3));
      this.#log.info({ stream: r.stream.name }, 'publish started');
    });
  }

  #stopPublishing(): void {
    if (this.#stream !== null && this.#publisher !== null) {
      this.#log.info({ stream: this.#stream.name }, 'publish ended');
      this.#stream.detach(this.#publisher);
      this.#ended('publish', this.closeReason ?? 'publisher closed the stream', this.#reader.bytesReceived);
    }
    this.#stream = null;
    this.#publisher = null;
  }

  #stopPlaying(reason: string): void {
    const sub = this.#subscriber;
    if (sub === null) return;
    this.#subscriber = null;
    sub.close('closed', reason);
    this.#ended('play', reason, sub.bytesSent);
  }

  #ended(kind: 'publish' | 'play', reason: string, bytes: number): void {
    this.#opts.onEnded?.({
      kind, app: this.app, key: this.streamKey, protocol: this.#label, address: this.transport.remoteAddress, reason, bytes,
    });
  }

  #play(rawName: string, streamId: number): void {
    const fail = (code: string, why: string): void => {
      this.#send(onStatus(streamId, status('error', code, why), this.#amf3));
      this.close(`play refused: ${why}`);
    };
    if (this.role !== 'connected' || this.#pending) {
      return fail('NetStream.Play.Failed', 'play on a connection that already publishes or plays');
    }
    const path = splitQuery(rawName);
    if (path === null) {
      this.#opts.onLimit?.('stream-name');
      return fail('NetStream.Play.StreamNotFound', `invalid stream name ${JSON.stringify(withoutQuery(rawName).slice(0, 80))}`);
    }
    this.#checkAccess('play', path.name, path.query, (denied) => {
      if (denied !== null) return fail('NetStream.Play.Failed', denied);
      const name = `${this.app}/${path.name}`;
      const sink = new RtmpPlaySink(this.#label, this.#wire, streamId, name, this.#amf3, (m) => this.#send(m), (reason) => this.close(reason));
      const r = this.#opts.hub.subscribe(name, sink, 0, this.transport.remoteAddress);
      if (!r.ok) {
        return fail(r.reason === 'not-found' ? 'NetStream.Play.StreamNotFound' : 'NetStream.Play.Failed', r.detail);
      }
      this.role = 'playing';
      this.streamKey = path.name;
      this.#subscriber = r.subscriber;
      this.#log.info({ stream: name }, 'rtmp play started');
    });
  }
}
