import type { Command, Option } from 'commander';

/** The shells `trove completion` writes a script for. */
export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * What a word completes to: `file`/`dir` (the shell's own file completion),
 * `none` (free text), or a kind `trove __complete KIND` lists from the
 * repository (`rev` is refs and generation numbers).
 */
export type CompletionKind = 'file' | 'dir' | 'none' | 'rev' | 'ref' | 'package' | 'generation' | 'profile' | 'remote' | 'shell' | 'topic';

/** The kind of a positional argument, by its name in the command definition. */
function argumentKind(cmd: Command, name: string): CompletionKind {
  const path = commandWords(cmd).join(' ');
  if (path === 'help') return 'topic';
  if (path === 'completion') return 'shell';
  if (/^(rev|rev\[:path\]|rev:path|a|b|from|to|target|revs?)$/.test(name)) return 'rev';
  if (/^(packages|names|pkg|name)$/.test(name)) return path.startsWith('pkg') || path === 'install' || path === 'remove' || path.startsWith('gen') ? 'package' : 'none';
  if (name === 'remote') return 'remote';
  if (name === 'refs') return 'ref';
  if (/^(paths|command|cmd|args|words|url|value|spec)$/.test(name)) return 'none';
  if (/^(dir|dest|mountpoint|mnt)$/.test(name)) return 'dir';
  return 'file';
}

/** The kind of an option's value, by the option's name. */
function optionKind(o: Option): CompletionKind {
  const name = (o.long ?? o.short ?? '').replace(/^-+/, '');
  if (name === 'profile') return 'profile';
  if (name === 'ref') return 'ref';
  if (name === 'remote') return 'remote';
  if (name === 'to') return 'generation';
  if (name === 'good' || name === 'bad') return 'rev';
  if (name === 'repo') return 'dir';
  if (/(key|link|file|out|output)$/.test(name)) return 'file';
  return 'none';
}

/** `['pkg', 'add']` for `trove pkg add`. */
function commandWords(cmd: Command): string[] {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words;
}

function hidden(cmd: Command): boolean {
  return (cmd as unknown as { _hidden?: boolean })._hidden === true;
}

interface Entry {
  path: string;
  subs: string[];
  options: string[];
  /** `--flag:kind` for every option that takes a value. */
  valued: string[];
  /** Kinds of the positional arguments; the last is repeated when variadic (marked `kind*`). */
  args: string[];
}

/** Every command (and the program itself, path ''), with what completes after it. */
export function completionTable(program: Command): Entry[] {
  const out: Entry[] = [];
  const visit = (cmd: Command): void => {
    const subs = cmd.commands.filter((c) => !hidden(c));
    // The program's flags (-q, -v, --progress, --no-progress) are accepted after every command word too;
    // --repo is too, but is offered only before it, where the repository is chosen.
    const globals = cmd.parent ? program.options.filter((o) => o.long !== '--repo') : [];
    const opts = [...cmd.options, ...globals].filter((o) => !o.hidden);
    const flags = opts.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
    out.push({
      path: commandWords(cmd).join(' '),
      subs: subs.flatMap((c) => [c.name(), ...c.aliases()]),
      options: [...flags, '--help'],
      valued: opts.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined).map((f) => `${f}:${optionKind(o)}`)),
      args: cmd.registeredArguments.map((a) => `${argumentKind(cmd, a.name())}${a.variadic ? '*' : ''}`),
    });
    for (const s of subs) visit(s);
  };
  visit(program);
  return out;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The part both shells share, in the subset of bash that zsh runs under
 * `emulate ksh` (0-based arrays, word splitting): given the words and the index
 * of the word being completed, it sets `_trove_kind` (words, file, dir) and
 * `_trove_reply` (the candidate words).
 */
function core(table: Entry[]): string {
  const assoc = (name: string, pick: (e: Entry) => string[]): string =>
    // `name=([key]=value ...)`: the one form of associative assignment bash and zsh read alike.
    `typeset -gA ${name}\n${name}=(\n${table.map((e) => `  [${shellQuote(e.path ? `trove ${e.path}` : 'trove')}]=${shellQuote(pick(e).join(' '))}`).join('\n')}\n)`;
  return `${assoc('_trove_subs', (e) => e.subs)}
${assoc('_trove_opts', (e) => e.options)}
${assoc('_trove_valued', (e) => e.valued)}
${assoc('_trove_args', (e) => e.args)}

# Candidates of a kind: the repository's refs, packages, generations, ...
_trove_dynamic() {
  command trove __complete "$1" "\${_trove_repo[@]}" 2>/dev/null
}

_trove_candidates() {
  local cword=$1; shift
  local -a w; w=("$@")
  local cur=\${w[cword]} cpath=trove npos=0 i word kind v spec
  _trove_repo=()
  _trove_kind=words
  _trove_reply=()
  i=1
  while (( i < cword )); do
    word=\${w[i]}
    if [[ $word == --repo ]]; then _trove_repo=(--repo "\${w[i+1]}"); (( i += 2 )); continue; fi
    if [[ $word == --repo=* ]]; then _trove_repo=(--repo "\${word#--repo=}"); (( i += 1 )); continue; fi
    if [[ $word == --profile ]]; then _trove_repo+=(--profile "\${w[i+1]}"); fi
    if [[ $word == -* ]]; then
      for spec in \${_trove_valued[$cpath]}; do
        if [[ \${spec%%:*} == "$word" ]]; then (( i += 1 )); break; fi
      done
      (( i += 1 )); continue
    fi
    if [[ " \${_trove_subs[$cpath]} " == *" $word "* ]]; then
      cpath="$cpath $word"
    else
      (( npos += 1 ))
    fi
    (( i += 1 ))
  done
  kind=
  if (( cword > 1 )); then
    for spec in \${_trove_valued[$cpath]} --repo:dir; do
      if [[ \${spec%%:*} == "\${w[cword-1]}" ]]; then kind=\${spec#*:}; fi
    done
  fi
  if [[ -z $kind ]]; then
    if [[ $cur == -* ]]; then
      for v in \${_trove_opts[$cpath]}; do [[ $v == "$cur"* ]] && _trove_reply+=("$v"); done
      return 0
    fi
    if [[ -n \${_trove_subs[$cpath]} && $npos == 0 ]]; then
      for v in \${_trove_subs[$cpath]}; do [[ $v == "$cur"* ]] && _trove_reply+=("$v"); done
      return 0
    fi
    i=0
    for spec in \${_trove_args[$cpath]}; do
      kind=\${spec%\\*}
      if (( i == npos )); then break; fi
      if [[ $spec == *\\* ]]; then break; fi
      kind=
      (( i += 1 ))
    done
  fi
  case $kind in
    file|dir) _trove_kind=$kind ;;
    ''|none) ;;
    shell) for v in ${SHELLS.join(' ')}; do [[ $v == "$cur"* ]] && _trove_reply+=("$v"); done ;;
    topic) for v in \${_trove_subs[trove]} revisions exit-codes environment; do [[ $v == "$cur"* ]] && _trove_reply+=("$v"); done ;;
    *) for v in $(_trove_dynamic "$kind"); do [[ $v == "$cur"* ]] && _trove_reply+=("$v"); done ;;
  esac
  return 0
}
`;
}

/** The completion script for `shell`, from the program's command definitions. */
export function completionScript(program: Command, shell: Shell): string {
  const table = completionTable(program);
  if (shell === 'bash') {
    return `# trove completion for bash: source <(trove completion bash)
${core(table)}
_trove() {
  local -a _trove_reply _trove_repo
  local _trove_kind
  _trove_candidates "$COMP_CWORD" "\${COMP_WORDS[@]}"
  case $_trove_kind in
    file) COMPREPLY=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}")); compopt -o filenames 2>/dev/null ;;
    dir) COMPREPLY=($(compgen -d -- "\${COMP_WORDS[COMP_CWORD]}")); compopt -o filenames 2>/dev/null ;;
    *) COMPREPLY=("\${_trove_reply[@]}") ;;
  esac
}
complete -F _trove trove
`;
  }
  return `#compdef trove
# trove completion for zsh: source <(trove completion zsh), after compinit
${core(table).replace('_trove_candidates() {\n', '_trove_candidates() {\n  emulate -L ksh\n')}
_trove() {
  local -a _trove_reply _trove_repo
  local _trove_kind
  _trove_candidates $(( CURRENT - 1 )) "\${words[@]}"
  case $_trove_kind in
    file) _files ;;
    dir) _files -/ ;;
    *) compadd -- "\${_trove_reply[@]}" ;;
  esac
}
compdef _trove trove
`;
}
