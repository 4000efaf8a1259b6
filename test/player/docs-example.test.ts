// The React component shown in docs/web-player.md is the file tsconfig.player.json type-checks,
// not a copy that could drift from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it('the docs show docs/examples/react-player.tsx as it is', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/web-player.md'), 'utf8');
  const shown = /```tsx\n([\s\S]*?)```/.exec(doc)?.[1];
  const file = readFileSync(path.join(ROOT, 'docs/examples/react-player.tsx'), 'utf8');
  // the file's first line is a comment saying where it is shown
  expect(shown).toBe(file.split('\n').slice(1).join('\n'));
});
