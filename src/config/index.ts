export { parseDuration } from './duration.js';
export { configFromFlags, FLAGS_SOURCE, flagFor } from './flags.js';
export { loadConfigFile, type ParseOptions, parseConfigText } from './load.js';
export { ConfigError } from './problems.js';
export { DEFAULT_CONTROL_SOCKET, HOOK_EVENTS } from './schema.js';
export { checkSecrets, readSecretFile } from './secrets.js';
export type * from './types.js';
export { MAX_NAME_BYTES, MAX_SCROLL_BYTES, U64_MAX } from './values.js';
