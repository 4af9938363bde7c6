import type { Logger } from '#lib/ports/logger.ts';

/** Keeps every line as the JSON a real logger would write, so tests can search it. */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly keys: Record<string, unknown> = {},
  ) {}

  private write(level: string, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push(JSON.stringify({ level, message, ...this.keys, ...fields }));
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('DEBUG', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('INFO', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('WARN', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('ERROR', message, fields);
  }
  child(keys: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.keys, ...keys });
  }
}
