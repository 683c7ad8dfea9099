import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LegiondError } from '../errors.js';

/** The bearer token from its file (mode checked at config load): the first line, trimmed. */
export async function readToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LegiondError(
      'ERR_HTTP_TOKEN',
      `http.token_file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token === '') throw new LegiondError('ERR_HTTP_TOKEN', `http.token_file: ${file} holds no token`);
  return token;
}

/** `Authorization: Bearer <token>`, compared in constant time (digests, so lengths do not leak) */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}
