/**
 * Imports a module from the compiled dist/, which is what the daemon runs: the same code under
 * tsx measured up to three times slower. `npm run bench` builds first; run alone, build first.
 */
const DIST = new URL('../dist/', import.meta.url);

export async function fromDist<T>(path: string, bench: string): Promise<T> {
  try {
    return (await import(new URL(path, DIST).href)) as T;
  } catch (e) {
    throw new Error(`${bench} measures the built code: run npm run build first (${(e as Error).message})`);
  }
}
