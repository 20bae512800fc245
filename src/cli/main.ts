#!/usr/bin/env node
/** `cyclewatch` command line: the commands, and the errors a person can act on (src/cli/commands/ holds each command). */
import { ConfigError } from '../config/schema.js';
import { RejectedRowsError, ImportError } from '../io/instruments/rejections.js';
import { JournalError } from '../io/bridge/journal.js';
import { FigureFontError } from '../report/figures.js';
import { USAGE, COMMAND_HELP, helpName, version } from './help.js';
import { UsageError, nearestOption, negativeValues } from './args.js';
import { systemErrorLine } from './words.js';
import { cmdAnalyze } from './commands/analyze.js';
import { cmdReport } from './commands/report.js';
import { cmdSimulate } from './commands/simulate.js';
import { cmdRun } from './commands/run.js';
import { cmdReplay } from './commands/replay.js';
import { cmdBridge } from './commands/bridge.js';
import { cmdDemo } from './commands/demo.js';

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rawRest] = argv;
  const rest = negativeValues(rawRest);
  try {
    if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
      process.stdout.write(`cyclewatch ${await version()}\n`);
      return 0;
    }
    if (cmd !== undefined && COMMAND_HELP[helpName(cmd)] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      process.stdout.write(COMMAND_HELP[helpName(cmd)]!);
      return 0;
    }
    switch (cmd) {
      case 'analyze':
      case 'analyse':
        return await cmdAnalyze(rest);
      case 'simulate':
        return await cmdSimulate(rest);
      case 'run':
        return await cmdRun(rest);
      case 'replay':
        return await cmdReplay(rest);
      case 'demo':
        return await cmdDemo(rest);
      case 'bridge':
        return await cmdBridge(rest);
      case 'report':
        return await cmdReport(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
      const help = cmd === undefined ? undefined : COMMAND_HELP[helpName(cmd)];
      const hint = help !== undefined ? `cyclewatch ${helpName(cmd!)} --help` : 'cyclewatch help';
      let message = (e as Error).message;
      const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /Unknown option '([^']+)'/.exec(message)?.[1] : undefined;
      if (unknown !== undefined) {
        // Node's own message suggests `-- "--area"`, with an unbalanced quote; the option meant is more useful.
        const nearest = nearestOption(unknown, help?.match(/--[a-z][a-z0-9-]*/gi) ?? []);
        message = `unknown option ${unknown}${nearest === null ? '' : ` (did you mean ${nearest}?)`}`;
      }
      process.stderr.write(`cyclewatch: ${message}\n(${hint} lists the options)\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof ImportError || e instanceof JournalError || e instanceof FigureFontError || e instanceof RejectedRowsError) {
      process.stderr.write(`cyclewatch: ${(e as Error).message}\n`);
      return 2;
    }
    const line = systemErrorLine(e as NodeJS.ErrnoException);
    if (line !== null) {
      process.stderr.write(`cyclewatch: ${line}\n`);
      return 1;
    }
    throw e;
  }
}
