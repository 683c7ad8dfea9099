/**
 * Tiny typed reader over parsed YAML that remembers where it is, so every error names the file
 * and the key path (`timeline[2].pause.for`) instead of a bare "invalid value".
 */
import { LegiondError } from '../src/errors.js';
import { parseDuration } from './duration.js';

export class ScenarioError extends LegiondError {
  constructor(message: string) {
    super('ERR_SCENARIO', message);
  }
}

export class Reader {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(msg: string): never {
    throw new ScenarioError(`${this.source}: ${this.path || '(top)'}: ${msg}`);
  }

  at(key: string | number): Reader {
    const path = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    const v =
      typeof key === 'number'
        ? (this.value as unknown[])[key]
        : (this.value as Record<string, unknown> | null)?.[key];
    return new Reader(this.source, path, v);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  /** an object whose keys are all in `allowed` */
  object(allowed: readonly string[]): Record<string, unknown> {
    if (!this.isObject()) this.fail(`expected a mapping with keys ${allowed.join(', ')}`);
    const obj = this.value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.fail(`unknown key "${k}" (allowed: ${allowed.join(', ')})`);
    }
    return obj;
  }

  list(): Reader[] {
    if (!Array.isArray(this.value)) this.fail('expected a list');
    return (this.value as unknown[]).map((_, i) => this.at(i));
  }

  string(): string {
    if (typeof this.value !== 'string' || this.value === '') this.fail('expected a non-empty string');
    return this.value as string;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail('expected true or false');
    return this.value as boolean;
  }

  number(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(`expected a number in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  }

  integer(min: number, max: number): number {
    const v = this.number(min, max);
    if (!Number.isInteger(v)) this.fail(`expected an integer, got ${v}`);
    return v;
  }

  duration(): number {
    const ms = parseDuration(this.value);
    if (ms === null)
      this.fail(`expected a duration like "250ms", "1.5s", "2m", got ${JSON.stringify(this.value)}`);
    return ms;
  }

  /** a duration that may be negative ("-40s"), for clock skew */
  signedDuration(): number {
    if (typeof this.value === 'string' && this.value.trim().startsWith('-')) {
      return -new Reader(this.source, this.path, this.value.trim().slice(1)).duration();
    }
    if (typeof this.value === 'number') return this.value;
    return this.duration();
  }

  /** unsigned 64-bit, from an integer or a decimal string */
  u64(): bigint {
    const v = this.value;
    let b: bigint | null = null;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) b = BigInt(v);
    else if (typeof v === 'string' && /^\d+$/.test(v)) b = BigInt(v);
    if (b === null || b >= 1n << 64n)
      this.fail(`expected an unsigned 64-bit integer, got ${JSON.stringify(v)}`);
    return b;
  }

  oneOf<T extends string>(options: readonly T[]): T {
    if (typeof this.value !== 'string' || !options.includes(this.value as T)) {
      this.fail(`expected one of ${options.join(', ')}, got ${JSON.stringify(this.value)}`);
    }
    return this.value as T;
  }
}
