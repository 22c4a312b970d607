// Validation of numeric options shared by the backends.
import { ParameterError } from '../errors.ts';

/** `v` when it is a positive integer, `fallback` when it is undefined; otherwise a ParameterError naming `field`. */
export function positiveIntOption(v: number | undefined, fallback: number, field: string): number {
  if (v === undefined) return fallback;
  if (!(Number.isInteger(v) && v >= 1)) throw new ParameterError(field, `is ${v}`, 'give a positive integer');
  return v;
}
