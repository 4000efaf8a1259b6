// Command-line entry point: `npm start -- [--rtmp-port N] [--http-port M] [--host ADDR] ...`
import cluster from 'node:cluster';
import os from 'node:os';
import { runPrimary } from './cluster/primary.js';
import { stopWhenPrimaryGoes } from './cluster/primary-watch.js';
import { ConfigError, helpText, loadConfig } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // Help must work even when the environment or a config file is broken.
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  let parsed;
  try {
    parsed = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rtmp-flv-gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (parsed.printConfig) {
    // Secrets are shown as set or not, never in clear.
    const shown = { ...parsed.config };
    for (const k of ['auth-secret', 'api-token', 'cluster-secret'] as const) if (shown[k] !== '') shown[k] = '(set)';
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const config = parsed.config;
  const log = createLogger({ level: config['log-level'] });
  const workers = config.workers === 'auto' ? os.availableParallelism() : Number(config.workers);
  if (workers > 1 && cluster.isPrimary) {
    // The primary only forks, restarts and coordinates the workers; they serve.
    const redis = config['cluster-redis'] === '' ? {} : {
      redis: {
        url: config['cluster-redis'],
        advertise: config['cluster-advertise'] !== '' ? config['cluster-advertise'] : `http://${os.hostname()}:${config['http-port']}`,
        ttlMs: config['cluster-ttl-ms'],
      },
    };
    const primary = runPrimary({ workers, secret: config['cluster-secret'], ttlMs: config['cluster-ttl-ms'], log, ...redis });
    let signals = 0;
    const stopAll = (signal: string): void => {
      // A second signal means now: no more waiting on the workers.
      if (signals++ > 0) {
        primary.kill();
        process.exit(1);
      }
      log.info({ signal }, 'stopping the workers');
      // Non-zero when a worker had to be killed: its shutdown hung.
      void primary.stop().then(({ killed }) => process.exit(killed > 0 ? 1 : 0));
    };
    process.on('SIGINT', () => stopAll('SIGINT'));
    process.on('SIGTERM', () => stopAll('SIGTERM'));
    return;
  }
  const gw = await startGateway(config, log);
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  log.info(
    {
      rtmpPort: gw.rtmpPort,
      httpPort: gw.httpPort,
      publish: `rtmp://${shown}:${gw.rtmpPort}/APP/KEY`,
      httpFlv: `http://${shown}:${gw.httpPort}/APP/KEY.flv`,
      wsFlv: `ws://${shown}:${gw.httpPort}/APP/KEY.flv`,
      page: `http://${shown}:${gw.httpPort}/`,
    },
    `ready: publish rtmp://${shown}:${gw.rtmpPort}/APP/KEY, play http://${shown}:${gw.httpPort}/APP/KEY.flv or ws://${shown}:${gw.httpPort}/APP/KEY.flv, page http://${shown}:${gw.httpPort}/`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    gw.close().then(
      () => {
        log.info('stopped');
        log.flush?.();
        setTimeout(() => process.exit(0), 50).unref();
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  stopWhenPrimaryGoes(() => stop('primary gone'));
}

main().catch((err: unknown) => {
  process.stderr.write(`rtmp-flv-gateway: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
