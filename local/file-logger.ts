import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '#lib/ports/logger.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/**
 * JSON-lines logger for the local runtime: the same structured lines Lambda would write, into a file
 * so the terminal stays readable. Warnings and errors can also be echoed.
 */
export class FileLogger implements Logger {
  constructor(
    private readonly path: string,
    private readonly options: {
      level?: Level;
      echo?: (line: string) => void;
      keys?: Record<string, unknown>;
    } = {},
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  private write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    if (LEVELS[level] < LEVELS[this.options.level ?? 'info']) return;
    const line = JSON.stringify({
      level: level.toUpperCase(),
      message,
      timestamp: new Date().toISOString(),
      service: 'autopilot-export',
      ...this.options.keys,
      ...fields,
    });
    appendFileSync(this.path, `${line}\n`);
    if (LEVELS[level] >= LEVELS.warn) this.options.echo?.(`${level}: ${message}`);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
  child(keys: Record<string, unknown>): Logger {
    return new FileLogger(this.path, { ...this.options, keys: { ...this.options.keys, ...keys } });
  }
}
