// An in-process gateway on loopback with OS-chosen ports, for integration tests.
import type { Config } from '../../server/config.js';
import { startGateway, type StandaloneGateway } from '../../server/gateway.js';
import { silentLogger, type Logger } from '../../server/log.js';

export interface TestGateway extends StandaloneGateway {
  rtmpUrl(name: string): string;
  httpUrl(path: string): string;
  wsUrl(path: string): string;
}

export async function startTestGateway(config: Partial<Config> = {}, log: Logger = silentLogger()): Promise<TestGateway> {
  const gw = await startGateway({ host: '127.0.0.1', 'rtmp-port': 0, 'http-port': 0, ...config }, log);
  return Object.assign(gw, {
    rtmpUrl: (name: string) => `rtmp://127.0.0.1:${gw.rtmpPort}/${name}`,
    httpUrl: (path: string) => `http://127.0.0.1:${gw.httpPort}/${path.replace(/^\//, '')}`,
    wsUrl: (path: string) => `ws://127.0.0.1:${gw.httpPort}/${path.replace(/^\//, '')}`,
  });
}
