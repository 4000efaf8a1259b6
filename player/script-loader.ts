// The classic scripts' way to get mpegts.js: window.mpegts if the page has it, else a <script>
// for vendor/mpegts.js next to player.js (the gateway serves it from its own node_modules).
import { quietLogging, type MpegtsLib } from './mpegts-api.js';

/** Where the running classic script came from (player.js or recording-player.js). */
export function currentScriptUrl(): string {
  const cs = document.currentScript as HTMLScriptElement | null;
  if (cs?.src) return cs.src;
  const scripts = document.getElementsByTagName('script');
  for (let i = scripts.length - 1; i >= 0; i--) {
    const src = scripts[i]!.src;
    if (/(^|\/)(recording-)?player\.js(\?|#|$)/.test(src)) return src;
  }
  return location.href;
}

/** mpegts.js for the classic scripts: window.mpegts if there, else `url` (or the default) loaded once. */
export function scriptLoader(defaultUrl: string): (url?: string) => Promise<MpegtsLib> {
  return (url) => loadGlobalScript<MpegtsLib>(url || defaultUrl, 'mpegts').then(quietLogging);
}

const globals = new Map<string, Promise<unknown>>();

/** A library that puts itself on window (hls.js as window.Hls): the global if there, else a <script> once. */
export function loadGlobalScript<T>(src: string, name: string): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  if (g[name]) return Promise.resolve(g[name] as T);
  let p = globals.get(src);
  if (!p) {
    p = new Promise<unknown>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.async = true;
      s.onload = () => (g[name] ? resolve(g[name]) : reject(new Error(`${src} loaded but window.${name} is missing`)));
      s.onerror = () => {
        globals.delete(src);
        reject(new Error(`Could not load ${s.src}`));
      };
      (document.head || document.documentElement).appendChild(s);
    });
    globals.set(src, p);
  }
  return p as Promise<T>;
}
