#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { controlRequest, controlStream } from '../control/client.js';
import type { ArgsOf } from '../control/connection.js';
import type { ControlCommand, ControlEvent, ControlReplies, ValorResult } from '../control/results.js';
import { formatDuration, parseDuration, parseU64 } from '../control/values.js';
import { isLegiondError, LegiondError } from '../errors.js';
import { completionScript } from './completion.js';
import { flattenMembers, formatEvent, formatLord, formatMembersTable, formatStatus } from './format.js';
import { packageVersion } from './version.js';

const DEFAULT_CONTROL = '/run/legiond/legiond.sock';
const DEFAULT_STEPDOWN = '60s';
/** `legionctl lord` when the legion has no lord: not an error (1) nor a usage mistake (2) */
const EXIT_NO_LORD = 3;

/** a mistake in the command line itself: exit 2, like commander's own usage errors */
class UsageError extends LegiondError {}

interface GlobalOpts {
  control: string;
  json?: boolean;
  timeout: string;
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

function checked<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isLegiondError(err)) throw new UsageError(err.code, err.message);
    throw err;
  }
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError('ERR_INVALID_VALUE', `${what} is not valid UTF-8`);
  }
}

async function readScrollFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return decodeUtf8(Buffer.concat(chunks), 'standard input');
  }
  try {
    return decodeUtf8(await readFile(file), file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError('ERR_FILE', `cannot read ${file}: ${(err as Error).message}`);
  }
}

function buildProgram(): Command {
  const program = new Command('legionctl')
    .description('Control a running legiond over its local socket')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .option('--control <path>', 'control socket', process.env.LEGIOND_CONTROL ?? DEFAULT_CONTROL)
    .option('--json', 'print machine-readable JSON')
    .option('--timeout <duration>', 'how long to wait for the daemon', '10s')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`legionctl: ${str.replace(/^error: /, '').trim()} (ERR_USAGE)\n`),
    });

  const globals = (): GlobalOpts => program.opts<GlobalOpts>();
  const call = async <K extends ControlCommand>(
    cmd: K,
    args: ArgsOf<K> = {} as ArgsOf<K>,
  ): Promise<ControlReplies[K]> => {
    const g = globals();
    const timeoutMs = checked(() => parseDuration(g.timeout));
    return await controlRequest(g.control, cmd, args, { timeoutMs });
  };
  const show = <T>(result: T, human: (r: T) => string): void => {
    if (globals().json) printJson(result);
    else out(human(result));
  };

  program
    .command('status')
    .description('show every legion of the daemon')
    .action(async () => show(await call('status'), formatStatus));

  program
    .command('members [legion]')
    .description('list live members (of one legion, or all)')
    .action(async (legion?: string) => {
      const r = await call('members', legion === undefined ? {} : { legion });
      if (globals().json) printJson(flattenMembers(r));
      else out(formatMembersTable(r));
    });

  program
    .command('lord <legion>')
    .description('show the lord of a legion (exit 3 when it has none)')
    .action(async (legion: string) => {
      const r = await call('lord', { legion });
      show(r, formatLord);
      if (r.lord === null) process.exitCode = EXIT_NO_LORD;
    });

  const valor = program.command('valor').description("read or change this node's valor");
  const showValor = (r: ValorResult) =>
    r.valor === r.baseValor
      ? `${r.legion}: valor ${r.valor}`
      : `${r.legion}: valor ${r.valor} (base ${r.baseValor})`;
  valor
    .command('get <legion>')
    .action(async (legion: string) => show(await call('valor.get', { legion }), showValor));
  valor.command('set <legion> <n>').action(async (legion: string, n: string) => {
    const v = checked(() => parseU64(n, 'valor'));
    show(await call('valor.set', { legion, valor: v.toString() }), showValor);
  });

  program
    .command('stepdown <legion>')
    .description('stop being a candidate for a while, so another node takes over')
    .option('--for <duration>', `how long (e.g. 30s, 5m; default ${DEFAULT_STEPDOWN})`)
    .option('--cancel', 'become a candidate again now')
    .action(async (legion: string, o: { for?: string; cancel?: boolean }) => {
      if (o.cancel && o.for !== undefined)
        throw new UsageError('ERR_USAGE', '--for and --cancel exclude each other');
      const forMs = checked(() => parseDuration(o.for ?? DEFAULT_STEPDOWN));
      const args = o.cancel ? { legion, cancel: true } : { legion, forMs };
      show(await call('stepdown', args), (r) =>
        r.draining
          ? `${r.legion}: stepped down for ${formatDuration(forMs)}`
          : `${r.legion}: candidate again`,
      );
    });

  const scroll = program.command('scroll').description("read or change this node's scroll");
  scroll
    .command('get <legion>')
    .action(async (legion: string) => show(await call('scroll.get', { legion }), (r) => r.scroll));
  scroll
    .command('set <legion> [text]')
    .option('--file <file>', 'read the scroll from a file (- for standard input)')
    .action(async (legion: string, text: string | undefined, o: { file?: string }) => {
      if ((text === undefined) === (o.file === undefined)) {
        throw new UsageError('ERR_USAGE', 'give the scroll as TEXT or with --file, not both and not neither');
      }
      const value = text ?? (await readScrollFile(o.file!));
      show(await call('scroll.set', { legion, scroll: value }), (r) => `${r.legion}: scroll set`);
    });

  program
    .command('events [legion]')
    .description('print events as they happen, until interrupted')
    .action(async (legion?: string) => {
      const json = globals().json === true;
      const stream = await controlStream(
        globals().control,
        'events',
        legion === undefined ? {} : { legion },
        (e) => out(json ? JSON.stringify(e) : formatEvent(e as unknown as ControlEvent)),
      );
      const stop = () => stream.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await stream.done;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  program
    .command('leave <legion>')
    .description('leave a legion cleanly (as at shutdown), keeping the others')
    .action(async (legion: string) => show(await call('leave', { legion }), (r) => `${r.legion}: left`));

  program
    .command('completion <shell>')
    .description('print a completion script for bash or zsh (legion names come from the daemon)')
    .action((shell: string) => {
      const script = completionScript(shell);
      if (script === null) throw new UsageError('ERR_USAGE', `no completion for "${shell}": bash or zsh`);
      process.stdout.write(script);
    });

  // what the completion scripts call for legion names: one a line, nothing else
  program.command('__legions', { hidden: true }).action(async () => {
    for (const l of (await call('status')).legions) out(l.legion);
  });

  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // a command may leave an exit code that is not an error (lord: none)
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`legionctl: ${err.message} (${err.code})\n`);
      return 2;
    }
    if (isLegiondError(err)) {
      process.stderr.write(`legionctl: ${err.message} (${err.code})\n`);
      return 1;
    }
    process.stderr.write(`legionctl: ${(err as Error)?.message ?? String(err)} (ERR_INTERNAL)\n`);
    return 1;
  }
}

// exitCode rather than exit(): let stdout drain when piped
process.exitCode = await main(process.argv);
