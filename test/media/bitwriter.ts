// Test helper: packs [width, value] fields MSB-first, zero-padded to a byte boundary.
export function bits(...fields: [number, number][]): Buffer {
  const out: number[] = [];
  for (const [n, v] of fields) for (let i = n - 1; i >= 0; i--) out.push(Math.floor(v / 2 ** i) % 2);
  while (out.length % 8) out.push(0);
  const bytes: number[] = [];
  for (let i = 0; i < out.length; i += 8) bytes.push(parseInt(out.slice(i, i + 8).join(''), 2));
  return Buffer.from(bytes);
}
