// The embedded element's error text: the engine's CLI-worded fixes read in the element's own options.
import { describe, expect, it } from 'vitest';
import { makeEmbedErrorText, makeEmbedHint } from '../src/embed/error-text.ts';
import { ConfigError, ParameterError } from '../src/errors.ts';

describe('makeEmbedHint', () => {
  it('writes --set name=value as params, quoting a non-number', () => {
    expect(makeEmbedHint('use --set k=10 or a larger --n')).toBe('use params {"k": 10} or a larger n');
    expect(makeEmbedHint('use --set variant=B1')).toBe('use params {"variant": "B1"}');
    // The parameter checks' placeholder stays whole.
    expect(makeEmbedHint('use --set JE=<value in (0, inf), in 1/time>')).toBe('use params {"JE": <value in (0, inf), in 1/time>}');
  });

  it('names the options the element has, and marks the flags it has not as the CLI\'s', () => {
    expect(makeEmbedHint('reduce --T or --threads')).toBe('reduce T or threads');
    expect(makeEmbedHint('or give --dt below 0.001 s')).toBe('or give --dt (CLI only) below 0.001 s');
  });
});

describe('makeEmbedErrorText', () => {
  it('keeps the problem, with the flag named as the option, then the translated fix', () => {
    const e = new ParameterError('--n', '-4 is not an integer >= 1', 'use --n 1000');
    expect(makeEmbedErrorText(e)).toBe('invalid n: -4 is not an integer >= 1\n  fix: use n=1000');
  });

  it('an error without a fix, and a plain Error, keep their text', () => {
    expect(makeEmbedErrorText(new ConfigError('no such file'))).toBe('no such file');
    expect(makeEmbedErrorText(new RangeError('too big'))).toBe('RangeError: too big');
  });
});
