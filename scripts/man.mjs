#!/usr/bin/env node
// Writes the man pages, man/man1/trove.1 and man/man1/trove-COMMAND.1, from
// the command definitions (the commander program of dist/, so build first)
// and the sections of docs/cli.md, and lists them under "man" in
// package.json (what `npm install -g` installs). `--check` writes nothing
// and exits 1 when a page or the list is not what it would write.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const { buildProgram } = await import(join(root, 'dist', 'cli', 'main.js'));
const { commandSections, docSection, markdownToRoff, roffEscape } = await import(join(root, 'dist', 'cli', 'docs.js'));

const pkgPath = join(root, 'package.json');
const pkgText = readFileSync(pkgPath, 'utf8');
const pkg = JSON.parse(pkgText);
const program = await buildProgram();

/** Every visible command with its words, subcommands included. */
function commands(cmd, words = []) {
  const out = [];
  for (const sub of cmd.commands) {
    if (sub._hidden) continue;
    const w = [...words, sub.name()];
    out.push({ words: w, cmd: sub }, ...commands(sub, w));
  }
  return out;
}

/** The command paths a docs/cli.md heading describes: `trove bisect good|bad|skip [REV]` gives bisect good, bad, skip. */
function headingPaths(heading) {
  const paths = [];
  for (const m of heading.matchAll(/`trove ([^`]*)`/g)) {
    let alternatives = [[]];
    for (const word of m[1].split(' ')) {
      if (!/^[a-z][a-z|-]*$/.test(word)) break;
      alternatives = alternatives.flatMap((p) => word.split('|').map((w) => [...p, w]));
    }
    paths.push(...alternatives.map((p) => p.join(' ')));
  }
  return paths;
}

const sections = commandSections();
/** The docs/cli.md text of a command: its own section, else its group's. */
function longText(words) {
  for (let n = words.length; n > 0; n--) {
    const want = words.slice(0, n).join(' ');
    const s = sections.find((sec) => headingPaths(sec.heading).includes(want));
    if (s) return s.body;
  }
  return undefined;
}

const esc = (s) => roffEscape(String(s));
const pageName = (words) => ['trove', ...words].join('-');
const th = (name) => `.TH ${name.toUpperCase().replace(/-/g, '\\-')} 1 "" "trove ${pkg.version}" "trove manual"\n.ad l\n`;

function optionsRoff(cmd) {
  const help = cmd.createHelp();
  return help
    .visibleOptions(cmd)
    .map((o) => `.TP\n.B ${esc(o.flags)}\n${esc(help.optionDescription(o))}\n`)
    .join('');
}

function argumentsRoff(cmd) {
  const help = cmd.createHelp();
  const args = help.visibleArguments(cmd);
  if (args.length === 0) return '';
  return `.SH ARGUMENTS\n${args.map((a) => `.TP\n.I ${esc(a.name())}\n${esc(help.argumentDescription(a))}\n`).join('')}`;
}

function commandPage(words, cmd) {
  const name = pageName(words);
  const subs = cmd.commands.filter((c) => !c._hidden);
  const long = longText(words);
  let page = th(name);
  page += `.SH NAME\n${esc(name)} \\- ${esc(cmd.description())}\n`;
  page += `.SH SYNOPSIS\n.B trove ${esc(words.join(' '))}\n${esc(cmd.usage())}\n`;
  page += `.SH DESCRIPTION\n.PP\n${esc(cmd.description())}.\n`;
  if (long) page += markdownToRoff(long);
  if (subs.length > 0) {
    page += `.SH COMMANDS\n${subs.map((s) => `.TP\n.B trove ${esc([...words, s.name()].join(' '))}\n${esc(s.description())} (\\fB${esc(pageName([...words, s.name()]))}\\fR(1))\n`).join('')}`;
  }
  page += argumentsRoff(cmd);
  page += `.SH OPTIONS\n${optionsRoff(cmd)}`;
  page += `.SH GLOBAL OPTIONS\n${optionsRoff(program)}`;
  page += `.SH EXIT STATUS\n.PP\n0 on success; otherwise the status of the error code, see \\fBtrove\\fR(1) or \\fBtrove help exit\\-codes\\fR.\n`;
  page += `.SH SEE ALSO\n\\fBtrove\\fR(1)${words.length > 1 ? `, \\fB${esc(pageName(words.slice(0, -1)))}\\fR(1)` : ''}\n`;
  return page;
}

function mainPage(all) {
  let page = th('trove');
  page += `.SH NAME\ntrove \\- ${esc(program.description())}\n`;
  page += `.SH SYNOPSIS\n.B trove\n[\\-\\-repo \\fIDIR\\fR] [\\-q | \\-v] [\\-\\-[no\\-]progress] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n`;
  page += `.SH DESCRIPTION\n${markdownToRoff(docSection('trove command reference', 1).split('\n## ')[0])}`;
  page += `.SH OPTIONS\n${optionsRoff(program)}`;
  page += `.SH COMMANDS\n${all.map(({ words, cmd }) => `.TP\n.B trove ${esc(words.join(' '))}\n${esc(cmd.description())} (\\fB${esc(pageName(words))}\\fR(1))\n`).join('')}`;
  page += `.SH REVISIONS\n${markdownToRoff(docSection('Revisions'))}`;
  page += `.SH EXIT STATUS\n${markdownToRoff(docSection('Exit status'))}`;
  page += `.SH ENVIRONMENT\n${markdownToRoff(docSection('Environment'))}`;
  page += `.SH SEE ALSO\n${all.map(({ words }) => `\\fB${esc(pageName(words))}\\fR(1)`).join(',\n')}\n`;
  return page;
}

const all = commands(program);
const pages = new Map([['trove.1', mainPage(all)], ...all.map(({ words, cmd }) => [`${pageName(words)}.1`, commandPage(words, cmd)])]);
const dir = join(root, 'man', 'man1');
const list = [...pages.keys()].sort().map((f) => `man/man1/${f}`);
const newPkg = `${JSON.stringify({ ...pkg, man: list }, null, 2)}\n`;

if (check) {
  const stale = [];
  for (const [file, text] of pages) {
    const path = join(dir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) stale.push(file);
  }
  const extra = existsSync(dir) ? readdirSync(dir).filter((f) => !pages.has(f)) : [];
  if (JSON.stringify(pkg.man) !== JSON.stringify(list)) stale.push('package.json "man"');
  if (stale.length + extra.length > 0) {
    process.stderr.write(`man pages out of date (npm run man): ${[...stale, ...extra.map((f) => `${f} (no such command)`)].join(', ')}\n`);
    process.exit(1);
  }
} else {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of pages) writeFileSync(join(dir, file), text);
  if (newPkg !== pkgText) writeFileSync(pkgPath, newPkg);
  process.stderr.write(`wrote ${pages.size} man pages to man/man1\n`);
}
