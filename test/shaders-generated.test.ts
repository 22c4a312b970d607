// src/gpu/shaders.generated.ts must be regenerated (`npm run gen`) whenever a .wgsl file changes.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { generate, generatedPath } from '../scripts/gen-shaders.ts';
import { expandIncludes, mapLine } from '../src/gpu/shader-includes.ts';
import { shaderSources, structLayouts } from '../src/gpu/shaders.generated.ts';

describe('generated shader table', () => {
  it('is up to date with shaders/**/*.wgsl', () => {
    expect(readFileSync(generatedPath, 'utf8') === generate(), 'src/gpu/shaders.generated.ts is stale: run `npm run gen`').toBe(true);
  });

  it('reflects struct layouts with WGSL alignment rules (vec3 aligned to 16)', () => {
    const echo = structLayouts.EchoParams;
    const origin = echo.fields.find((f) => f.name === 'origin')!;
    expect(origin.offset % 16).toBe(0);
    expect(echo.size % echo.align).toBe(0);
  });

  it('expands includes once each and maps lines back to their files', () => {
    const sources = { 'a.wgsl': '// @include b.wgsl\nfn a() {}\n// @include b.wgsl', 'b.wgsl': 'fn b() {}\nfn c() {}' };
    const e = expandIncludes('a.wgsl', sources);
    expect(e.code).toBe('fn b() {}\nfn c() {}\nfn a() {}');
    expect(mapLine(e, 2)).toEqual({ file: 'b.wgsl', line: 2 });
    expect(mapLine(e, 3)).toEqual({ file: 'a.wgsl', line: 2 });
    expect(() => expandIncludes('x.wgsl', sources)).toThrow(/not found/);
    expect(Object.keys(shaderSources)).toContain('poisson/step.wgsl');
  });
});
