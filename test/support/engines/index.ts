// The one entry point: a browser of the named engine behind the shared page-driver interface.
import { launchChromium } from './chromium.js';
import { launchFirefox } from './firefox.js';
import type { EngineBrowser, EngineName } from './types.js';
import { launchWebKit } from './webkit.js';

export * from './types.js';

export function launchEngine(engine: EngineName): Promise<EngineBrowser> {
  switch (engine) {
    case 'chromium': return launchChromium();
    case 'firefox': return launchFirefox();
    case 'webkit': return launchWebKit();
  }
}
