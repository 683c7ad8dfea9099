/**
 * The SQL of the PostgreSQL engine: its schema and the statements of each EngineClient call.
 *
 * Every time is the server's (`clock_timestamp()`): a lease is live while `expires_at` is ahead of
 * the server's clock, whatever the clients' clocks say. Every call is one statement, so one round
 * trip and one implicit transaction; the grant runs in a PL/pgSQL function because it must lock
 * the lease row, judge it and advance the fencing counter atomically.
 *
 * Tables (in the configured schema, `legiond` by default):
 * - `leases`: one row per legion: the holder of the title, its epoch, when it lapses.
 * - `candidates`: one row per registered node, with the time its registration lapses.
 * - `tokens`: the fencing counter of each legion, apart from the lease row so that a lease row
 *   removed by hand does not restart the count (and the lease row's epoch keeps the count going
 *   if the counter row is removed instead).
 *
 * Triggers notify the legion's channel when something a watcher cares about changes: the holder
 * or epoch of the lease (not a renewal), a candidate joining, leaving, changing or coming back
 * after its registration lapsed (not a refresh). Rows removed by hand notify too.
 */
import { createHash } from 'node:crypto';
import { escapeIdentifier } from 'pg';

/** The NOTIFY channel of a legion: a digest, so any legion name makes a valid, short identifier. */
export function channelOf(schema: string, legion: string): string {
  return `legiond_${createHash('md5').update(`${schema}/${legion}`).digest('hex').slice(0, 20)}`;
}

/** Bumped when the DDL below changes, so a newer client replaces the functions of an older one. */
export const SCHEMA_VERSION = 2;

/**
 * Idempotent DDL, run in one transaction under a transaction-scoped advisory lock: concurrent
 * `CREATE ... IF NOT EXISTS` and `CREATE OR REPLACE FUNCTION` from several clients starting at
 * once otherwise fail with unique violations on the catalogs.
 */
export function schemaDdl(schema: string): string {
  const s = escapeIdentifier(schema);
  // the channel expression must match channelOf()
  const chan = (row: string) =>
    `'legiond_' || left(md5(${schemaLiteral(schema)} || '/' || ${row}.legion), 20)`;
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.leases (
  legion text PRIMARY KEY,
  holder text,
  epoch bigint NOT NULL DEFAULT 0,
  expires_at timestamptz,
  granted_at timestamptz
);
CREATE TABLE IF NOT EXISTS ${s}.candidates (
  legion text NOT NULL,
  uuid text NOT NULL,
  name text NOT NULL,
  valor numeric(20, 0) NOT NULL CHECK (valor >= 0),
  scroll bytea NOT NULL,
  standing boolean NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (legion, uuid)
);
CREATE TABLE IF NOT EXISTS ${s}.tokens (
  legion text PRIMARY KEY,
  token bigint NOT NULL
);

CREATE OR REPLACE FUNCTION ${s}.lease_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.holder IS NOT DISTINCT FROM OLD.holder AND NEW.epoch = OLD.epoch THEN
    RETURN NULL; -- a renewal
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(${chan('OLD')}, 'lease');
  ELSE
    PERFORM pg_notify(${chan('NEW')}, 'lease');
  END IF;
  RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION ${s}.candidate_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.expires_at > clock_timestamp()
     AND (NEW.name, NEW.valor, NEW.scroll, NEW.standing) IS NOT DISTINCT FROM
         (OLD.name, OLD.valor, OLD.scroll, OLD.standing) THEN
    RETURN NULL; -- a refresh of a live registration
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(${chan('OLD')}, 'candidate');
  ELSE
    PERFORM pg_notify(${chan('NEW')}, 'candidate');
  END IF;
  RETURN NULL;
END $fn$;

DROP TRIGGER IF EXISTS lease_changed ON ${s}.leases;
CREATE TRIGGER lease_changed AFTER INSERT OR UPDATE OR DELETE ON ${s}.leases
  FOR EACH ROW EXECUTE FUNCTION ${s}.lease_changed();
DROP TRIGGER IF EXISTS candidate_changed ON ${s}.candidates;
CREATE TRIGGER candidate_changed AFTER INSERT OR UPDATE OR DELETE ON ${s}.candidates
  FOR EACH ROW EXECUTE FUNCTION ${s}.candidate_changed();

-- the result type changed in version 2; CREATE OR REPLACE cannot change it
DROP FUNCTION IF EXISTS ${s}.acquire(text, text, bigint);

-- The grant: lock the legion's lease row (creating it if it is missing), refuse while a holder's
-- lease is live by the server clock, otherwise advance the counter and hand over, all in the
-- caller's one transaction. The counter never goes below the lease row's epoch.
CREATE OR REPLACE FUNCTION ${s}.acquire(p_legion text, p_uuid text, p_ttl_ms bigint)
RETURNS TABLE (ok boolean, holder text, epoch bigint, remaining_ms double precision) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  l ${s}.leases%ROWTYPE;
  t bigint;
BEGIN
  INSERT INTO ${s}.leases (legion) VALUES (p_legion) ON CONFLICT DO NOTHING;
  SELECT * INTO l FROM ${s}.leases WHERE leases.legion = p_legion FOR UPDATE;
  IF l.holder IS NOT NULL AND l.expires_at > clock_timestamp() THEN
    RETURN QUERY SELECT false, l.holder, l.epoch,
      extract(epoch FROM l.expires_at - clock_timestamp())::double precision * 1000;
    RETURN;
  END IF;
  INSERT INTO ${s}.tokens AS k (legion, token) VALUES (p_legion, l.epoch + 1)
    ON CONFLICT (legion) DO UPDATE SET token = GREATEST(k.token, EXCLUDED.token - 1) + 1
    RETURNING k.token INTO t;
  UPDATE ${s}.leases SET holder = p_uuid, epoch = t, granted_at = clock_timestamp(),
    expires_at = clock_timestamp() + p_ttl_ms * interval '1 millisecond'
    WHERE leases.legion = p_legion;
  RETURN QUERY SELECT true, p_uuid, t, p_ttl_ms::double precision;
END $fn$;

COMMENT ON SCHEMA ${s} IS 'legiond strong-mode engine, schema version ${SCHEMA_VERSION}';
`;
}

function schemaLiteral(schema: string): string {
  return `'${schema.replaceAll("'", "''")}'`;
}

/** The statements of the calls; `$1` is always the legion. */
export function statements(schema: string) {
  const s = escapeIdentifier(schema);
  return {
    // Lapsed registrations of other nodes are swept in the same statement: every legiond start
    // is a new UUID, so rows would otherwise pile up. A minute's grace keeps the sweep from
    // racing a node that is about to refresh.
    register: `
WITH swept AS (
  DELETE FROM ${s}.candidates
  WHERE legion = $1 AND uuid <> $2 AND expires_at < clock_timestamp() - interval '1 minute'
)
INSERT INTO ${s}.candidates (legion, uuid, name, valor, scroll, standing, expires_at)
VALUES ($1, $2, $3, $4::numeric, $5, $6, clock_timestamp() + $7::bigint * interval '1 millisecond')
ON CONFLICT (legion, uuid) DO UPDATE SET name = EXCLUDED.name, valor = EXCLUDED.valor,
  scroll = EXCLUDED.scroll, standing = EXCLUDED.standing, expires_at = EXCLUDED.expires_at`,
    unregister: `DELETE FROM ${s}.candidates WHERE legion = $1 AND uuid = $2`,
    acquire: `SELECT ok, holder, epoch::text AS epoch, remaining_ms FROM ${s}.acquire($1, $2, $3::bigint)`,
    renew: `
UPDATE ${s}.leases SET expires_at = clock_timestamp() + $4::bigint * interval '1 millisecond'
WHERE legion = $1 AND holder = $2 AND epoch = $3::bigint AND expires_at > clock_timestamp()`,
    // the holder's registration is stood down in the same transaction: no peer sees the title
    // gone while its holder still stands (and waits for a renewal that never comes)
    release: `
WITH released AS (
  UPDATE ${s}.leases SET holder = NULL, expires_at = NULL
  WHERE legion = $1 AND holder = $2 AND epoch = $3::bigint
  RETURNING legion
)
UPDATE ${s}.candidates SET standing = false
WHERE legion = $1 AND uuid = $2 AND standing AND EXISTS (SELECT 1 FROM released)`,
    // one statement, so candidates and title come from one snapshot
    snapshot: `
SELECT l.holder, l.epoch::text AS epoch,
       extract(epoch FROM l.expires_at - clock_timestamp())::double precision * 1000 AS remaining_ms,
       c.uuid, c.name, c.valor::text AS valor, c.scroll, c.standing,
       extract(epoch FROM c.expires_at - clock_timestamp())::double precision * 1000 AS c_remaining_ms
FROM (SELECT 1) AS one
LEFT JOIN ${s}.leases AS l
  ON l.legion = $1 AND l.holder IS NOT NULL AND l.expires_at > clock_timestamp()
LEFT JOIN ${s}.candidates AS c
  ON c.legion = $1 AND c.expires_at > clock_timestamp()`,
  };
}
