/**
 * Actor logging. Records are plain data so they can travel to the system's
 * log from any thread or process.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  level: LogLevel;
  message: string;
  /** Id of the actor that logged, or the kernel id for runtime records. */
  source: string;
  time: number;
  detail?: unknown;
  /** The remote host it came from (system.connectHost), if any. */
  host?: string;
}

export interface Logger {
  debug(message: string, detail?: unknown): void;
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

export const LOG_LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function makeLogger(source: string, emit: (record: LogRecord) => void): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, detail?: unknown): void =>
      emit({ level, message: String(message), source, time: Date.now(), detail });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Text of an error for PoisonMessage.details and logs: name, message and the top of the stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack?.split('\n').slice(1, 4).join('\n') ?? '';
    return `${error.name}: ${error.message}${stack ? '\n' + stack : ''}`;
  }
  return `thrown value: ${String(error)}`;
}
