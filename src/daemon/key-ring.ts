import { readSecretFile } from '../config/secrets.js';
import type { LegionConfig } from '../config/types.js';
import { LegiondError } from '../errors.js';
import { type KeyRing, makeKeyRing } from '../protocol/native.js';

/** A native legion's keys from its secret files (send, then accepted), or null when insecure. */
export async function legionKeys(cfg: LegionConfig): Promise<KeyRing | null> {
  if (cfg.insecure) return null;
  if (!cfg.secretFile)
    throw new LegiondError('ERR_CONFIG', `legion ${cfg.name}: secret_file or insecure is required`);
  const secrets = [await readSecretFile(cfg.secretFile)];
  for (const f of cfg.acceptSecretFiles) secrets.push(await readSecretFile(f));
  return makeKeyRing(secrets, cfg.name);
}
