// Boundary checks for commands and options. Each failure throws INVALID_ARGUMENT naming the
// field and the value; nothing reaches the engine until every field passed.
import { invalid } from './errors.js';

// Number.isSafeInteger through a module binding, for the hot paths' inline checks: less bytecode
// per check, so that those methods stay within V8's inlining budget (TurboFan still lowers the
// builtin inline).
export const isSafeInteger = Number.isSafeInteger as (value: unknown) => value is number;

/** A safe integer (any sign); -0 is read as 0. */
export function safeInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(field, value, 'a safe integer');
  return value === 0 ? 0 : value;
}

/** A safe integer > 0. */
export function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(field, value, 'a positive safe integer');
  }
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(field, value, 'a boolean');
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(field, value, 'an object');
  return value;
}
