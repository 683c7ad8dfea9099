/**
 * uWSGI's legion encryption: an OpenSSL block cipher in CBC mode with PKCS#7 padding, a key made
 * from the secret and a fixed IV. No nonce and no MAC: the padding check is the only integrity
 * test uWSGI has, and we apply exactly that one so both sides accept the same packets.
 */
import { createCipheriv, createDecipheriv, getCipherInfo } from 'node:crypto';
import { LegiondError } from '../../errors.js';

export interface UwsgiCipherOptions {
  /** OpenSSL cipher name as in uWSGI's `--legion` option, e.g. `aes-128-cbc` */
  cipher: string;
  secret: Uint8Array;
  /** the optional IV string uWSGI takes after the secret */
  iv?: string;
}

/** A ready cipher; one per codec. Each packet is encrypted from the same key and IV, as uWSGI does. */
export class UwsgiCipher {
  readonly name: string;
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;

  constructor(o: UwsgiCipherOptions) {
    const info = getCipherInfo(o.cipher);
    if (info === undefined || info.mode !== 'cbc' || info.ivLength === undefined) {
      throw new LegiondError(
        'ERR_CIPHER',
        `unsupported uWSGI legion cipher "${o.cipher}": use a CBC cipher such as aes-128-cbc or aes-256-cbc`,
      );
    }
    this.name = info.name;
    this.#key = fitBytes(o.secret, info.keyLength, 0x00);
    this.#iv = fitBytes(new TextEncoder().encode(o.iv ?? ''), info.ivLength, 0x30);
    // OpenSSL 3 lists legacy ciphers (bf-cbc, des-cbc) it then refuses to run: find out now.
    try {
      this.encrypt(new Uint8Array(1));
    } catch (e) {
      throw new LegiondError('ERR_CIPHER', `uWSGI legion cipher "${o.cipher}" is not usable here`, {
        cause: e,
      });
    }
  }

  encrypt(clear: Uint8Array): Uint8Array {
    const c = createCipheriv(this.name, this.#key, this.#iv);
    return concat(c.update(clear), c.final());
  }

  /** @throws LegiondError ERR_AUTH when the ciphertext does not decrypt to a well-padded body */
  decrypt(ciphertext: Uint8Array): Uint8Array {
    try {
      const d = createDecipheriv(this.name, this.#key, this.#iv);
      return concat(d.update(ciphertext), d.final());
    } catch (e) {
      throw new LegiondError('ERR_AUTH', 'uWSGI packet does not decrypt (wrong secret or cipher)', {
        cause: e,
      });
    }
  }
}

/** uWSGI pads a short secret with `fill` up to the length OpenSSL needs and ignores the excess. */
function fitBytes(src: Uint8Array, len: number, fill: number): Uint8Array {
  const out = new Uint8Array(len).fill(fill);
  out.set(src.subarray(0, len));
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
