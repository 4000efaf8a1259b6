// The two librtmp builds key RTMPE's RC4 from the Diffie-Hellman secret differently when the secret
// starts with a zero byte (one handshake in 256): GnuTLS (Debian's rtmpdump) left-pads the number to
// 128 bytes, OpenSSL strips its leading zeros and pads with zeros after. The server must follow the
// client either way; before it did, Debian's rtmpdump failed one RTMPE play in 256 with garbage chunks.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dhKeyPair, rtmpeKeys, serverRtmpeKeys, sharedSecretForms, type DhKeyPair } from '../../server/rtmp/rtmpe.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A fixed private key from a seed (below 2^1023, as dhKeyPair makes them). */
function seededKey(seed: string): Buffer {
  const key = Buffer.concat([createHash('sha512').update(`${seed}/1`).digest(), createHash('sha512').update(`${seed}/2`).digest()]);
  key[0]! &= 0x7f;
  return key;
}

/** The first seeded client whose secret with the seeded server starts with a zero byte. */
function pairWithLeadingZero(): { server: DhKeyPair; client: DhKeyPair; forms: ReturnType<typeof sharedSecretForms> } {
  const server = dhKeyPair(seededKey('server'));
  for (let i = 0; i < 4096; i++) {
    const client = dhKeyPair(seededKey(`client ${i}`));
    const forms = sharedSecretForms(server.privateKey, client.publicKey);
    if (forms.rightAligned[0] === 0) return { server, client, forms };
  }
  throw new Error('no secret with a leading zero byte in 4096 seeded clients');
}

/** The start of librtmp's connect: chunk stream 3, type-0 header, AMF0 command, then "connect". */
const CONNECT = Buffer.concat([Buffer.from('030000000000c8140000000002000763', 'hex'), Buffer.from('onnect')]);
const REPLY = Buffer.from('0200000000000401000000000000100002000000000000040500000000004c4b40', 'hex');

describe('RTMPE shared secret forms', () => {
  const { server, client, forms } = pairWithLeadingZero();

  it('differ only by where the zero bytes go', () => {
    const digits = forms.rightAligned.subarray(forms.rightAligned.findIndex((b) => b !== 0));
    expect(hex(forms.leftAligned.subarray(0, digits.length))).toBe(hex(digits));
    expect(forms.leftAligned.subarray(digits.length).every((b) => b === 0)).toBe(true);
    expect(forms.leftAligned.equals(forms.rightAligned)).toBe(false);
  });

  it.each([
    ['left-padded (librtmp with GnuTLS)', 'rightAligned'],
    ['zeros after (librtmp with OpenSSL)', 'leftAligned'],
  ] as const)('the server follows a client that keyed with the secret %s', (_label, form) => {
    const serverKeys = serverRtmpeKeys(server.privateKey, server.publicKey, client.publicKey);
    const clientKeys = rtmpeKeys(forms[form], client.publicKey, server.publicKey);
    // In two pieces, as TCP may deliver them; the choice made on the first holds for the second.
    const wire = clientKeys.encrypt.update(CONNECT);
    const first = serverKeys.decrypt.update(wire.subarray(0, 9));
    const rest = serverKeys.decrypt.update(wire.subarray(9));
    expect(hex(Buffer.concat([first, rest]))).toBe(hex(CONNECT));
    expect(hex(clientKeys.decrypt.update(serverKeys.encrypt.update(REPLY)))).toBe(hex(REPLY));
  });

  it('when the forms agree there is one key, whatever the client', () => {
    const other = dhKeyPair(seededKey('client agree'));
    const f = sharedSecretForms(server.privateKey, other.publicKey);
    expect(f.rightAligned[0]).not.toBe(0);
    expect(f.leftAligned.equals(f.rightAligned)).toBe(true);
    const serverKeys = serverRtmpeKeys(server.privateKey, server.publicKey, other.publicKey);
    const clientKeys = rtmpeKeys(f.leftAligned, other.publicKey, server.publicKey);
    expect(hex(serverKeys.decrypt.update(clientKeys.encrypt.update(CONNECT)))).toBe(hex(CONNECT));
  });
});
