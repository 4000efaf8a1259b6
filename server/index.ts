// The package's public entry: `import { createGateway } from 'rtmp-flv-gateway'`.
export { createGateway, startGateway } from './gateway.js';
export type { Gateway, GatewayDeps, RtmpPorts, StandaloneGateway } from './gateway.js';
export type { GatewayEvents, PlayEvent, PublishEvent, StopEvent, StreamRef } from './gateway-events.js';
export { ConfigError, defaultConfig, helpText, loadConfig, OPTIONS } from './config.js';
export type { Config, OptionName } from './config.js';
export { defaultOptions, gatewayOptions } from './options.js';
export type { GatewayOptions } from './options.js';
export { createLogger, silentLogger } from './log.js';
export type { Logger } from './log.js';
export { TypedEmitter } from './typed-emitter.js';
export type { Listener } from './typed-emitter.js';
