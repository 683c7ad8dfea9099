import { describe, expect, it } from 'vitest';
import { lookupGroup } from '../../src/config/control-read.js';
import { parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const LEGION = `legions:
  - name: web
    bind: 127.0.0.1:4242
    peers: ["127.0.0.1:4243"]
    insecure: true
`;

const groups: Record<string, number> = { legion: 990 };
const parse = (head: string, source = '/etc/legiond/legiond.yaml') =>
  parseConfigText(`${head}\n${LEGION}`, source, {
    hostname: () => 'host-a',
    baseDir: '/etc/legiond',
    groupId: (name) => groups[name] ?? null,
  });

function errorOf(head: string): string {
  try {
    parse(head);
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('control_read', () => {
  it('is absent by default', () => {
    expect(parse('').controlRead).toBeNull();
  });

  it('resolves the group to its gid, the path against the file, and defaults the mode to 0660', () => {
    expect(parse('control_read: {path: run/read.sock, group: legion}').controlRead).toEqual({
      path: '/etc/legiond/run/read.sock',
      gid: 990,
      mode: 0o660,
    });
  });

  it('takes a numeric group and a quoted octal mode; without a group the default is 0600', () => {
    expect(parse('control_read: {path: /run/r.sock, group: 42, mode: "0666"}').controlRead).toEqual({
      path: '/run/r.sock',
      gid: 42,
      mode: 0o666,
    });
    expect(parse('control_read: {path: /run/r.sock}').controlRead).toEqual({
      path: '/run/r.sock',
      gid: null,
      mode: 0o600,
    });
  });

  it('names the key and the file for an unknown group', () => {
    const m = errorOf('control_read: {path: /run/r.sock, group: no-such-group}');
    expect(m).toMatch(/\/etc\/legiond\/legiond\.yaml/);
    expect(m).toMatch(/control_read\.group/);
    expect(m).toMatch(/no group named "no-such-group"/);
  });

  it('refuses an unquoted mode, a mode the owner cannot use, unknown keys and the admin path', () => {
    expect(errorOf('control_read: {path: /run/r.sock, mode: 0660}')).toMatch(/control_read\.mode.*in quotes/);
    expect(errorOf('control_read: {path: /run/r.sock, mode: "0460"}')).toMatch(/owner read and write/);
    expect(errorOf('control_read: {path: /run/r.sock, mode: "0600"}')).toMatch(/nobody but the owner/);
    expect(errorOf('control_read: {path: /run/r.sock, mode: "rw"}')).toMatch(/control_read\.mode/);
    expect(errorOf('control_read: {path: /run/r.sock, owner: root}')).toMatch(
      /control_read\.owner.*unknown key/,
    );
    expect(errorOf('control_read: {group: legion}')).toMatch(/control_read\.path/);
    expect(errorOf('control: /run/a.sock\ncontrol_read: {path: /run/a.sock}')).toMatch(
      /must differ from control/,
    );
  });

  it('looks groups up through the host (getent)', () => {
    expect(lookupGroup('root')).toBe(0);
    expect(lookupGroup('no-such-group-legiond')).toBeNull();
  });
});
