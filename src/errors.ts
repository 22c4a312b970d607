// Every error ei-engine raises on purpose: typed, with the context a user needs to act on it.

/** Base class: `hint` says what to do about it. */
export class EiError extends Error {
  readonly hint: string;
  constructor(message: string, hint = '') {
    super(hint ? `${message}\n  fix: ${hint}` : message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** No WebGPU implementation in this runtime (no navigator.gpu, or the `webgpu` package failed to load). */
export class WebGpuUnavailableError extends EiError {}

/** WebGPU exists but no adapter could be obtained (no Vulkan driver, no SwiftShader). */
export class AdapterUnavailableError extends EiError {}

/** The adapter's limit is below what a run needs. */
export class AdapterLimitError extends EiError {
  constructor(
    readonly limit: string,
    readonly required: number,
    readonly available: number,
    hint = 'reduce --n or --batch, or run on an adapter with larger limits (see `ei info`)',
  ) {
    super(`adapter limit ${limit} is ${available}, but ${required} is required`, hint);
  }
}

/** A WGSL compile error, mapped back to the .wgsl file and line it came from. */
export class ShaderCompileError extends EiError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`WGSL compile error in shaders/${file}:${line}:${column}: ${detail}`, 'fix the shader source');
  }
}

/** The GPU device was lost (driver reset, destroy, out of resources). */
export class DeviceLostError extends EiError {
  constructor(readonly reason: string, detail: string) {
    super(`GPU device lost (${reason}): ${detail}`, 'create a new engine; if it recurs, reduce the problem size or update the GPU driver');
  }
}

/** An allocation failed on the GPU. */
export class GpuOutOfMemoryError extends EiError {
  constructor(readonly what: string, readonly bytes: number, detail: string) {
    super(`out of GPU memory allocating ${what} (${bytes} bytes): ${detail}`, 'reduce --n or --batch, or split the sweep with --shard');
  }
}

/** A WebGPU validation error: a bug in ei-engine, reported with the label of the object at fault. */
export class GpuValidationError extends EiError {
  constructor(detail: string) {
    super(`WebGPU validation error: ${detail}`, 'this is an ei-engine bug; please report it with the command line');
  }
}

/** A wasm worker thread failed: it did not start, or its step threw (a kernel trap), and the run stopped. `thread`: its index, null when not one. */
export class WasmThreadError extends EiError {
  constructor(readonly thread: number | null, problem: string, hint: string) {
    super(problem, hint);
  }
}

/** An object was used after dispose(). */
export class DisposedError extends EiError {
  constructor(what: string) {
    super(`${what} was used after dispose()`, 'create a new one');
  }
}

/** Invalid user input: names the field, what was wrong and the fix. */
export class ParameterError extends EiError {
  constructor(readonly field: string, problem: string, hint: string) {
    super(`invalid ${field}: ${problem}`, hint);
  }
}

/** An experiment/config/sweep file that cannot be used. */
export class ConfigError extends EiError {}
