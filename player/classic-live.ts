/*!
 * Live Gateway player: a thin, low-latency wrapper around mpegts.js for the gateway's HTTP-FLV /
 * WS-FLV streams. Built from player/ (TypeScript) by `npm run build`.
 *
 *   <script src="https://gateway.example/player.js"></script>
 *   <script>
 *     const p = LiveGateway.createPlayer(document.querySelector('video'), {
 *       stream: 'live/cam1', proto: 'ws', onStatus: (s) => console.log(s.state, s.message)
 *     });
 *   </script>
 *
 * Loads mpegts.js from vendor/mpegts.js next to its own URL unless window.mpegts exists.
 */
import { liveApi } from './gateway-api.js';
import { currentScriptUrl, scriptLoader } from './script-loader.js';

const src = currentScriptUrl();
const api = liveApi({ defaultBase: new URL('./', src).href, loadMpegts: scriptLoader(new URL('vendor/mpegts.js', src).href) });
(globalThis as { LiveGateway?: unknown }).LiveGateway = api;
