/**
 * EngineClient on etcd v3, with the `etcd3` client (pure JS over gRPC) and its plain KV, lease
 * and watch calls rather than its election helper: the title is one key created in a transaction
 * only when absent, so the grant and its fencing token (the key's create revision, which etcd
 * never hands out twice) are one atomic step, and nothing depends on the helper's own
 * bookkeeping (microsoft/etcd3#176 was a bug there).
 *
 * Layout under `<prefix>/<legion>/`: `candidates/<uuid>` (JSON) and `lord` (the holder's UUID),
 * both bound to this node's one lease, so a node that dies or is cut off loses both when the
 * lease runs out. Every keepalive is sent within the call that needs it (register, acquire,
 * renew), after the caller took its send time, so the lease the engine holds always ends at
 * least a TTL after that time.
 *
 * etcd3's own retries and circuit breaker are off (cockatiel's noop policy): the core retries on
 * its own schedule and must hear of a failure at once rather than after backoffs it cannot see.
 */
import { noop } from 'cockatiel';
import { Etcd3, type IOperation, type IOptions, type Watcher } from 'etcd3';
import { tlsHandshakeError } from './tls-probe.js';
import type { AcquireResult, EngineCandidate, EngineClient, EngineSnapshot, EngineTitle } from './types.js';

export interface EtcdClientOptions {
  /** host:port or http(s)://host:port */
  endpoints: string[];
  prefix: string;
  legion: string;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
  /** gRPC deadline of each call (default 2000 ms) */
  callTimeoutMs?: number;
  /** told of watch trouble (the watch reconnects by itself) */
  onWatchError?: (err: Error) => void;
}

interface StoredCandidate {
  name: string;
  valor: string;
  scroll: string;
  standing: boolean;
}

function encodeCandidate(c: EngineCandidate): string {
  const v: StoredCandidate = {
    name: c.name,
    valor: c.valor.toString(),
    scroll: Buffer.from(c.scroll).toString('base64'),
    standing: c.standing,
  };
  return JSON.stringify(v);
}

function decodeCandidate(uuid: string, raw: string): EngineCandidate | null {
  try {
    const v = JSON.parse(raw) as Partial<StoredCandidate>;
    if (typeof v.name !== 'string' || typeof v.valor !== 'string' || !/^\d+$/.test(v.valor)) return null;
    return {
      uuid,
      name: v.name,
      valor: BigInt(v.valor),
      scroll: new Uint8Array(Buffer.from(typeof v.scroll === 'string' ? v.scroll : '', 'base64')),
      standing: v.standing === true,
    };
  } catch {
    return null;
  }
}

export function etcdHosts(endpoints: string[], tls: boolean): string[] {
  return endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`));
}

export class EtcdEngineClient implements EngineClient {
  private readonly client: Etcd3;
  private readonly base: string;
  private readonly lordKey: string;
  private leaseId: string | null = null;
  /** one grant at a time: concurrent callers share it */
  private granting: Promise<string> | null = null;
  private readonly watchers = new Set<Watcher>();
  /**
   * Writes of this node's registration (register, release) in call order: a registration still in
   * flight must not land after a release that stood the node down and undo it.
   */
  private writes: Promise<unknown> = Promise.resolve();
  /** the registration as last written, so a release can stand it down in the same transaction */
  private registered: EngineCandidate | null = null;
  private closed = false;

  constructor(private readonly o: EtcdClientOptions) {
    const timeout = o.callTimeoutMs ?? 2000;
    const opts: IOptions = {
      hosts: etcdHosts(o.endpoints, o.tls !== undefined),
      dialTimeout: timeout,
      faultHandling: { host: () => noop, global: noop },
      // a deadline on every unary call; a stream (the watch) lives on
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    if (o.tls)
      opts.credentials = {
        rootCertificate: o.tls.ca,
        ...(o.tls.key ? { privateKey: o.tls.key } : {}),
        ...(o.tls.cert ? { certChain: o.tls.cert } : {}),
      };
    if (o.auth) opts.auth = o.auth;
    this.client = new Etcd3(opts);
    this.base = `${o.prefix === '/' ? '' : o.prefix}/${o.legion}/`;
    this.lordKey = `${this.base}lord`;
  }

  private candidateKey(uuid: string): string {
    return `${this.base}candidates/${uuid}`;
  }

  /** a live lease, kept alive by this call (or granted now); ttlMs rounded up to whole seconds */
  private async liveLease(ttlMs: number): Promise<string> {
    if (this.leaseId !== null) {
      const id = this.leaseId;
      if (await this.keepalive(id)) return id;
      if (this.leaseId === id) this.leaseId = null;
    }
    this.granting ??= this.client.leaseClient
      .leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1000)) })
      .then((r) => {
        this.leaseId = String(r.ID);
        return this.leaseId;
      })
      .finally(() => {
        this.granting = null;
      });
    return this.granting;
  }

  /** one keepalive; false when etcd says the lease is gone */
  private async keepalive(id: string): Promise<boolean> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    try {
      const res = await new Promise<{ TTL: string }>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('lease keepalive timed out')),
          this.o.callTimeoutMs ?? 2000,
        );
        stream.on('data', (r: { TTL: string }) => {
          clearTimeout(timer);
          resolve(r);
        });
        stream.on('error', (e: Error) => {
          clearTimeout(timer);
          reject(e);
        });
        stream.write({ ID: id });
      });
      return Number(res.TTL) > 0;
    } finally {
      stream.end();
    }
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.writes.then(f, f);
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * An UNAVAILABLE over TLS says nothing of the cause (grpc-js: "Last error: null"): a handshake
   * of our own with each endpoint names it, so status and log say which certificate is wrong.
   */
  private async explained<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      const tls = this.o.tls;
      // grpc-js names the cause itself on later attempts ("Last error: Error: unable to verify ...")
      if (
        !tls ||
        !(e instanceof Error) ||
        !/UNAVAILABLE/.test(e.message) ||
        /Last error: (?!null)/.test(e.message)
      )
        throw e;
      const hosts = etcdHosts(this.o.endpoints, true);
      const whys = await Promise.all(
        hosts.map((h) => tlsHandshakeError(h, tls, this.o.callTimeoutMs ?? 2000)),
      );
      const found = whys.filter((w): w is string => w !== null);
      if (found.length === 0) throw e;
      throw new Error(`${e.message.replace(/\.? *Last error: null.*$/s, '')}: ${found.join('; ')}`, {
        cause: e,
      });
    }
  }

  register(me: EngineCandidate, ttlMs: number): Promise<void> {
    return this.explained(this.serial(() => this.writeRegistration(me, ttlMs)));
  }

  private async writeRegistration(me: EngineCandidate, ttlMs: number): Promise<void> {
    const lease = await this.liveLease(ttlMs);
    const key = this.candidateKey(me.uuid);
    const value = encodeCandidate(me);
    this.registered = me;
    // writes only when the stored registration differs, so an unchanged one wakes no watcher
    await this.client
      .if(key, 'Value', '==', value)
      .and(key, 'Lease', '==', lease)
      .else(this.client.put(key).value(value).lease(lease))
      .commit();
  }

  unregister(uuid: string): Promise<void> {
    return this.explained(this.serial(() => this.removeRegistration(uuid)));
  }

  private async removeRegistration(uuid: string): Promise<void> {
    const id = this.leaseId;
    this.leaseId = null;
    await this.client.delete().key(this.candidateKey(uuid)).exec();
    // revoking drops every key on the lease at once, the title included
    if (id !== null) await this.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
  }

  acquire(uuid: string, ttlMs: number): Promise<AcquireResult> {
    return this.explained(this.tryAcquire(uuid, ttlMs));
  }

  private async tryAcquire(uuid: string, ttlMs: number): Promise<AcquireResult> {
    const lease = await this.liveLease(ttlMs);
    const r = await this.client
      .if(this.lordKey, 'Create', '==', 0)
      .then(this.client.put(this.lordKey).value(uuid).lease(lease))
      .else(this.client.get(this.lordKey))
      .commit();
    // the put's revision is the transaction's, which is the key's create revision from now on
    if (r.succeeded) return { ok: true, epoch: BigInt(r.header.revision) };
    const kv = r.responses[0]?.response_range?.kvs[0];
    return {
      ok: false,
      holder: kv ? { uuid: kv.value.toString(), epoch: BigInt(kv.create_revision) } : null,
    };
  }

  renew(uuid: string, epoch: bigint, ttlMs: number): Promise<boolean> {
    return this.explained(this.tryRenew(uuid, epoch, ttlMs));
  }

  private async tryRenew(uuid: string, epoch: bigint, _ttlMs: number): Promise<boolean> {
    const id = this.leaseId;
    if (id === null) return false;
    if (!(await this.keepalive(id))) {
      if (this.leaseId === id) this.leaseId = null;
      return false;
    }
    const r = await this.client.kv.range({ key: Buffer.from(this.lordKey) });
    const kv = r.kvs[0];
    return (
      kv !== undefined &&
      kv.value.toString() === uuid &&
      BigInt(kv.create_revision) === epoch &&
      String(kv.lease) === id
    );
  }

  /**
   * Deletes the title only under this holder and token. The registration is stood down in the
   * same transaction (the core registers as not standing while it releases anyway), so no peer
   * sees the title gone while its holder still stands, which would make it wait for a renewal
   * that never comes.
   */
  release(uuid: string, epoch: bigint): Promise<void> {
    return this.explained(this.serial(() => this.writeRelease(uuid, epoch)));
  }

  private async writeRelease(uuid: string, epoch: bigint): Promise<void> {
    const ops: IOperation[] = [this.client.delete().key(this.lordKey)];
    const me = this.registered;
    if (me !== null && me.uuid === uuid && this.leaseId !== null) {
      const down = encodeCandidate({ ...me, standing: false });
      ops.push(this.client.put(this.candidateKey(uuid)).value(down).lease(this.leaseId));
      this.registered = { ...me, standing: false };
    }
    await this.client
      .if(this.lordKey, 'Create', '==', epoch.toString())
      .and(this.lordKey, 'Value', '==', uuid)
      .then(...ops)
      .commit();
  }

  snapshot(): Promise<EngineSnapshot> {
    return this.explained(this.readSnapshot());
  }

  private async readSnapshot(): Promise<EngineSnapshot> {
    const r = await this.client.kv.range({
      key: Buffer.from(this.base),
      range_end: prefixEnd(Buffer.from(this.base)),
    });
    const candidates: EngineCandidate[] = [];
    let title: EngineTitle | null = null;
    const cands = `${this.base}candidates/`;
    for (const kv of r.kvs) {
      const key = kv.key.toString();
      if (key === this.lordKey) title = { uuid: kv.value.toString(), epoch: BigInt(kv.create_revision) };
      else if (key.startsWith(cands)) {
        const c = decodeCandidate(key.slice(cands.length), kv.value.toString());
        if (c) candidates.push(c);
      }
    }
    return { candidates, title };
  }

  watch(changed: () => void): () => void {
    let watcher: Watcher | null = null;
    let cancelled = false;
    void this.client
      .watch()
      .prefix(this.base)
      .create()
      .then((w) => {
        if (cancelled) return void w.cancel();
        watcher = w;
        this.watchers.add(w);
        w.on('put', () => changed());
        w.on('delete', () => changed());
        // after a reconnect events may have been missed: look again
        w.on('connected', () => changed());
        w.on('error', (e: Error) => this.o.onWatchError?.(e));
      })
      .catch((e: Error) => this.o.onWatchError?.(e));
    return () => {
      cancelled = true;
      if (watcher) {
        this.watchers.delete(watcher);
        void watcher.cancel().catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    this.watchers.clear();
    this.client.close();
  }
}

/** the smallest key after every key with this prefix (etcd's range_end for a prefix) */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
