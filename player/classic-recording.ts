/*!
 * Live Gateway recording player: on-demand playback of the gateway's recordings. Load it after
 * player.js; it adds createRecordingPlayer, parseRecording, recordingUrl and recordingsApiUrl to
 * window.LiveGateway. Built from player/ (TypeScript) by `npm run build`.
 */
import type { LiveGatewayApi } from './gateway-api.js';
import { recordingApi } from './gateway-api.js';

const LG = (globalThis as { LiveGateway?: LiveGatewayApi }).LiveGateway;
if (!LG) throw new Error('recording-player.js needs player.js to be loaded first');
// Same base and the same mpegts.js as player.js (its loader finds window.mpegts once loaded).
Object.assign(LG, recordingApi({ defaultBase: LG.baseUrl, loadMpegts: (url) => LG.loadMpegts(url) }));
