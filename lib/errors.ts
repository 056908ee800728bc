// DurabookError: the one error class the API throws, with a stable literal code.
// Programming errors and engine states throw; business outcomes (rejects) are reports.

/** Stable error codes. Match on `err.code`, never on the message. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_SYMBOL'
  | 'ENGINE_CLOSED'
  | 'ENGINE_FAILED'
  | 'WAL_FAILED'
  | 'WAL_CORRUPT'
  | 'WAL_DIVERGED'
  | 'IO_ERROR'
  | 'LIMIT_EXCEEDED'
  | 'MEMORY_LOCK_FAILED'
  | 'NATIVE_UNAVAILABLE';

/** Every error durabook throws or rejects with. */
export class DurabookError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (file, offset, seq, errno …) where the code has them. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DurabookError';
    this.code = code;
    this.details = details;
  }
}

/** Renders a value for an error message: strings quoted, everything else as JS would show it. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Object.is(value, -0)) return '-0';
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value).slice(0, 80);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

export function invalid(field: string, value: unknown, expected: string): DurabookError {
  return new DurabookError('INVALID_ARGUMENT', `${field} must be ${expected}, got ${describe(value)}`, {
    field,
  });
}
