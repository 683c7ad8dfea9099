#!/usr/bin/env node
// Builds the man pages: docs/man/NAME.SECTION.md -> man/NAME.SECTION, with marked-man (roff
// from ronn-style Markdown). Run by `npm run build`; package.json's `man` field installs them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const src = join(root, 'docs', 'man');
const out = join(root, 'man');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = join(root, 'node_modules', 'marked-man', 'bin', 'marked-man.js');

mkdirSync(out, { recursive: true });
for (const file of readdirSync(src).filter((f) => /\.\d\.md$/.test(f)).sort()) {
  const page = file.slice(0, -'.md'.length);
  const section = page.slice(page.lastIndexOf('.') + 1);
  const roff = execFileSync(
    process.execPath,
    [bin, '--no-breaks', '--version', version, '--manual', 'legiond manual', '--section', section, join(src, file)],
    { encoding: 'utf8' },
  );
  writeFileSync(join(out, page), roff);
  console.log(`man/${page}`);
}
