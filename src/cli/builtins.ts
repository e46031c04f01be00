import type { Command } from 'commander';
import { usage } from '../util/errors.js';
import { nearest } from '../util/suggest.js';
import { completionScript, SHELLS } from './completion.js';
import { io } from '../util/io.js';
import { docSection, HELP_TOPICS, markdownToText } from './docs.js';

/** The subcommand of `cmd` named `name` (or by an alias). */
function findSub(cmd: Command, name: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/** Commands of the program itself: `help` (commands and topics) and `completion`. */
export function registerBuiltins(program: Command): void {
  program
    .command('help')
    .description(`show help for a command (trove help pkg add) or a topic: ${Object.keys(HELP_TOPICS).join(', ')}`)
    .argument('[words...]', 'a command, its subcommand, or a topic')
    .action((words: string[]) => {
      if (words.length === 0) return program.outputHelp();
      const topic = HELP_TOPICS[words[0]!];
      if (topic && words.length === 1) {
        io().stdout.write(markdownToText(docSection(topic.heading)));
        return;
      }
      let cmd = program;
      for (const word of words) {
        const sub = findSub(cmd, word);
        if (!sub) {
          const names = cmd.commands.map((c) => c.name()).filter((n) => !n.startsWith('_'));
          const candidates = cmd === program ? [...names, ...Object.keys(HELP_TOPICS)] : names;
          const near = nearest(word, candidates);
          const what = cmd === program ? `command or help topic '${word}'` : `command '${cmd.name()} ${word}'`;
          throw usage(`no ${what}${near ? ` (did you mean ${near}?)` : ''}; trove help lists commands and topics`);
        }
        cmd = sub;
      }
      cmd.outputHelp();
    });
  program
    .command('completion')
    .description('print the shell completion script: source <(trove completion bash), or zsh')
    .argument('<shell>', `the shell: ${SHELLS.join(' or ')}`)
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw usage(`no completion for shell '${shell}' (${SHELLS.join(' or ')})`);
      io().stdout.write(completionScript(program, shell as (typeof SHELLS)[number]));
    });
}
