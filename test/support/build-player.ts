// vitest globalSetup: the served player scripts (web/player.js, web/recording-player.js) are
// build output of player/; build them before any test loads a page, so a fresh checkout and an
// edited player source are what the browser tests see.
import { buildClassicScripts } from '../../scripts/build-player.js';

export default async function setup(): Promise<void> {
  await buildClassicScripts();
}
