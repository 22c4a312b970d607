// Strict decimal number syntax for user input: Number() would also take '0x10', '0b1', '' and ' ', which are typos here.

/** Decimal literal: optional sign, digits with an optional fraction, optional exponent (no hex, no 'Infinity', no separators). */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number `text` spells in decimal (surrounding blanks allowed), or NaN when it is not a decimal literal. */
export function parseDecimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : NaN;
}
