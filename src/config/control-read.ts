/**
 * `control_read: {path, group, mode}`: the read-only control socket. The schema checks the
 * shapes; resolve looks the group up on this host, since a name means nothing until then.
 */
import { execFileSync } from 'node:child_process';
import { z } from 'zod';
import type { ConfigProblem } from './problems.js';
import type { ControlReadConfig } from './types.js';

const MODE_HINT =
  'must be an octal mode in quotes, such as "0660" (YAML reads an unquoted 0660 as the decimal number 660)';

function parseMode(v: unknown, ctx: z.RefinementCtx): number {
  if (typeof v !== 'string') {
    ctx.addIssue({ code: 'custom', message: MODE_HINT });
    return z.NEVER;
  }
  const m = /^(?:0o?)?([0-7]{3})$/.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${v}" ${MODE_HINT}` });
    return z.NEVER;
  }
  const mode = Number.parseInt(m[1] as string, 8);
  if ((mode & 0o600) !== 0o600) {
    // the daemon must keep reading and writing its own socket
    ctx.addIssue({ code: 'custom', message: `"${v}" must give the owner read and write (6 as first digit)` });
    return z.NEVER;
  }
  if ((mode & 0o066) === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" gives nobody but the owner access: the admin socket does that`,
    });
    return z.NEVER;
  }
  return mode;
}

export const controlReadSchema = z.strictObject({
  path: z.string().min(1, { error: 'must not be empty' }),
  group: z
    .union([z.string().min(1, { error: 'must not be empty' }), z.number().int().min(0).max(0xfffffffe)])
    .optional(),
  mode: z.unknown().transform(parseMode).optional(),
});

export type ParsedControlRead = z.output<typeof controlReadSchema>;

/** group name or number to gid; null when the host knows no such group. Uses NSS (getent), so LDAP and sssd groups resolve too. */
export function lookupGroup(name: string): number | null {
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8', timeout: 5000 });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : null;
  } catch {
    return null;
  }
}

/**
 * Path made absolute, group to gid, and the mode's default: 0660 with a group, so its members
 * can use it; 0600 without one, so nothing is opened to every local user unless the mode says so.
 */
export function resolveControlRead(
  c: ParsedControlRead,
  abs: (p: string) => string,
  adminPath: string,
  problems: ConfigProblem[],
  groupId: (name: string) => number | null = lookupGroup,
): ControlReadConfig {
  const path = abs(c.path);
  if (path === adminPath)
    problems.push({ path: ['control_read', 'path'], message: `must differ from control (${adminPath})` });
  let gid: number | null = null;
  if (typeof c.group === 'number') gid = c.group;
  else if (c.group !== undefined) {
    gid = /^[0-9]+$/.test(c.group) ? Number(c.group) : groupId(c.group);
    if (gid === null)
      problems.push({ path: ['control_read', 'group'], message: `no group named "${c.group}" on this host` });
  }
  return { path, gid, mode: c.mode ?? (c.group !== undefined ? 0o660 : 0o600) };
}
