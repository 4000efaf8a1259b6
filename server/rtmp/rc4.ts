// RC4 (the ARCFOUR stream cipher), for RTMPE only. Node's OpenSSL 3 keeps RC4 in the legacy
// provider, which is off by default; the cipher is small enough to carry here rather than ask
// users to start Node with special flags.

export class Rc4 {
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1 to 256 bytes');
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    for (let i = 0, j = 0; i < 256; i++) {
      j = (j + s[i]! + key[i % key.length]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
    }
  }

  /** XOR the next keystream bytes into `src`, writing to `dst` (which may be `src` itself). */
  update(src: Uint8Array, dst: Uint8Array = Buffer.allocUnsafe(src.length)): Uint8Array {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < src.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      dst[n] = src[n]! ^ s[(si + sj) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
    return dst;
  }

  /** Advance the keystream without output (RTMPE discards the first 1536 bytes). */
  skip(n: number): void {
    const scratch = new Uint8Array(Math.min(n, 4096));
    for (let left = n; left > 0; left -= scratch.length) this.update(scratch.subarray(0, Math.min(left, scratch.length)), scratch);
  }
}
