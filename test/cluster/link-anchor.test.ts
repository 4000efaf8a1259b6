// The owner's arrival anchor on an internal link (server/cluster/link-anchor.ts):
// the script tag's bytes, its round trip and hostile bodies, the 32-bit wrap, and
// a real InternalPull from a stub owner whose anchor says its frames arrived long
// before the copy got them: the copy's anchor must be the owner's receipt.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import { InternalPull } from '../../server/cluster/internal-pull.js';
import { arrivalAnchorTag, LinkAnchor, linkDelta, readArrivalAnchor } from '../../server/cluster/link-anchor.js';
import { flvFileHeader, serializeFlvTag } from '../../server/media/flv.js';
import { silentLogger } from '../../server/log.js';
import { waitFor } from '../support/wait.js';
import { AAC_SEQ_44100, aacFrame, hex, makeHub } from '../hub/fixtures.js';

describe('the anchor tag', () => {
  it('is an AMF0 `|gatewayArrival` name and an object of two numbers', () => {
    const tag = arrivalAnchorTag({ timestamp: 1000, receivedAt: 1.5 });
    expect(tag.type).toBe(18);
    expect(tag.timestamp).toBe(1000);
    expect(tag.body).toEqual(hex(
      '02 | 000f | 7c 67 61 74 65 77 61 79 41 72 72 69 76 61 6c', // string, 15 bytes: |gatewayArrival
      '03', // object
      '0009 | 74 69 6d 65 73 74 61 6d 70 | 00 | 408f400000000000', // "timestamp": number 1000
      '000a | 72 65 63 65 69 76 65 64 41 74 | 00 | 3ff8000000000000', // "receivedAt": number 1.5
      '000009', // object end
    ));
  });

  it('its FLV timestamp wraps at 2^32 like every tag of the link', () => {
    expect(arrivalAnchorTag({ timestamp: 2 ** 32 + 7, receivedAt: 0 }).timestamp).toBe(7);
  });

  it('reads back what was written', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 2 ** 45 }), (timestamp, receivedAt) => {
      expect(readArrivalAnchor(arrivalAnchorTag({ timestamp, receivedAt }).body)).toEqual({ timestamp, receivedAt });
    }));
  });

  it('other script tags, and broken anchors, are not anchors', () => {
    expect(readArrivalAnchor(encodeAmf0(['onMetaData', { width: 320 }]))).toBeNull();
    expect(readArrivalAnchor(encodeAmf0(['|gatewayArrival']))).toBeNull();
    expect(readArrivalAnchor(encodeAmf0(['|gatewayArrival', { timestamp: 'x', receivedAt: 1 }]))).toBeNull();
    expect(readArrivalAnchor(encodeAmf0(['|gatewayArrival', [1, 2]]))).toBeNull();
    const whole = arrivalAnchorTag({ timestamp: 5, receivedAt: 6 }).body;
    for (let n = 0; n < whole.length; n++) expect(readArrivalAnchor(whole.subarray(0, n))).toBeNull();
  });

  it('hostile bodies after the name give null or an anchor of finite numbers, never a throw', () => {
    const name = encodeAmf0(['|gatewayArrival']);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
      const a = readArrivalAnchor(Buffer.concat([name, tail]));
      if (a !== null) expect(Number.isFinite(a.timestamp) && Number.isFinite(a.receivedAt)).toBe(true);
    }));
  });
});

describe('link timestamps', () => {
  it('differences are taken across the 32-bit wrap', () => {
    expect(linkDelta(5, 2 ** 32 - 5)).toBe(10);
    expect(linkDelta(2 ** 32 - 5, 5)).toBe(-10);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 33 }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), (b, d) => {
      expect(linkDelta((b + d) % 2 ** 32, b % 2 ** 32)).toBe(d);
    }));
  });

  it('the copy maps the owner\'s anchor through the link timestamps of its own frames', () => {
    const a = new LinkAnchor();
    expect(a.at(0)).toBeNull();
    a.received({ timestamp: 2 ** 32 - 100, receivedAt: 5_000 });
    expect(a.at(0)).toBeNull();
    // The link wrapped: its timestamp 50 is 150 ms after the anchor; the copy calls that frame 10.
    a.mapped(50, 10);
    expect(a.at(10)).toEqual({ timestamp: 10, receivedAt: 5_150 });
    expect(a.at(50)).toEqual({ timestamp: 50, receivedAt: 5_190 });
    a.reset();
    expect(a.at(10)).toBeNull();
  });
});

describe('an internal pull from an owner that received its frames 5 s before the copy', () => {
  let server: http.Server | null = null;
  let pull: InternalPull | null = null;

  afterEach(async () => {
    pull?.stop('test over');
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    server = null;
  });

  /** A stub owner: FLV of AAC frames at 23 ms steps from link timestamp 90 000, with (or without) its anchor. */
  async function startOwner(anchorReceivedAt: number | null): Promise<string> {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'video/x-flv' });
      res.write(flvFileHeader(true, false));
      res.write(serializeFlvTag(8, 90_000, AAC_SEQ_44100));
      if (anchorReceivedAt !== null) res.write(arrivalAnchorTag({ timestamp: 90_000, receivedAt: anchorReceivedAt }).flv);
      for (let i = 0; i < 10; i++) res.write(serializeFlvTag(8, 90_000 + 23 * i, aacFrame(i)));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/live/stub.flv`;
  }

  function startPull(url: string) {
    const hub = makeHub();
    pull = new InternalPull('live', 'stub', url, {
      hub, log: silentLogger(), secret: 's', peer: 'test', relocate: async () => null,
      timeoutMs: 30_000, idleMs: 60_000, relocateForMs: 0, onStopped: () => {},
    });
    expect(pull.start()).toBe(true);
    return hub.get('live/stub')!;
  }

  it('the copy\'s anchor is the owner\'s receipt on the copy\'s timeline, not its own', async () => {
    const ownerReceived = Date.now() - 5_000;
    const stream = startPull(await startOwner(ownerReceived));
    await waitFor('ten frames ingested', () => stream.arrivals.noted === 10);
    // The copy's timeline starts at its first frame: 9 frames on, it stands at 207.
    expect(stream.arrivals.timestamp).toBe(207);
    expect(stream.arrivalAnchor()).toEqual({ timestamp: 207, receivedAt: ownerReceived + 207 });
    // Its own line puts the newest frame at the moment the whole burst came in: 5 s after the owner's first.
    expect(stream.arrivals.receivedAt - stream.arrivalAnchor()!.receivedAt).toBeGreaterThanOrEqual(5_000 - 207);
  });

  it('an owner whose clock runs ahead cannot put its receipt after the copy\'s', async () => {
    const stream = startPull(await startOwner(Date.now() + 60_000));
    await waitFor('ten frames ingested', () => stream.arrivals.noted === 10);
    expect(stream.arrivalAnchor()).toEqual({ timestamp: 207, receivedAt: stream.arrivals.receivedAt });
  });

  it('an owner that sends no anchor leaves the copy on its own line', async () => {
    const stream = startPull(await startOwner(null));
    await waitFor('ten frames ingested', () => stream.arrivals.noted === 10);
    expect(stream.arrivalAnchor()).toEqual({ timestamp: 207, receivedAt: stream.arrivals.receivedAt });
  });
});
