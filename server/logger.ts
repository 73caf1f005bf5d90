import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The gateway's logger: JSON lines when stdout is a file, a pipe or a log collector (one object a
 * line, for machines), readable coloured lines on a terminal (npm start), where raw JSON would
 * drown the start lines (coloured where the terminal allows, and not with NO_COLOR). The pretty
 * stream is synchronous, in this thread: its lines stay in order with console output and none is
 * lost at exit.
 */
export function createLogger(level: string, stdoutIsTerminal = process.stdout.isTTY === true): Logger {
  const options = { level, base: undefined };
  if (!stdoutIsTerminal) return pino(options);
  return pino(options, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
