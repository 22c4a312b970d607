// Node only: loads Dawn (`webgpu` package) and chooses a Vulkan driver: hardware first, SwiftShader otherwise.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { AdapterUnavailableError, WebGpuUnavailableError } from '../errors.ts';

export interface NodeAdapterResult {
  /** The object `create()` returned; must stay referenced while any device from it lives. */
  instance: GPU;
  adapter: GPUAdapter;
  /** Set when we fell back to SwiftShader. */
  notice: string | null;
}

/** Where Debian's chromium package puts SwiftShader's Vulkan ICD (override with EI_SWIFTSHADER_ICD). */
export function findSwiftShaderIcd(): string | null {
  const candidates = [
    process.env.EI_SWIFTSHADER_ICD,
    '/usr/lib/chromium/vk_swiftshader_icd.json',
    '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
    '/opt/google/chrome/vk_swiftshader_icd.json',
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

/** Hardware Vulkan ICD manifests installed system-wide (lavapipe excluded: Dawn refuses it). */
export function findHardwareIcds(): string[] {
  const dirs = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];
  const out: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (!f.endsWith('.json')) continue;
      const p = `${d}/${f}`;
      let text = '';
      try { text = readFileSync(p, 'utf8'); } catch { continue; }
      if (/lvp|lavapipe|swiftshader/i.test(f + text)) continue;
      out.push(p);
    }
  }
  return out;
}

type DawnModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

let dawn: DawnModule | null = null;
async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  try {
    const spec = 'webgpu';
    dawn = (await import(/* @vite-ignore */ spec)) as DawnModule;
  } catch (e) {
    throw new WebGpuUnavailableError(
      `the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}`,
      'run `npm install` in the ei-engine folder; Dawn needs the Vulkan loader: `apt-get install libvulkan1`',
    );
  }
  // Dawn's classes (GPUBufferUsage etc.) must be global before any WebGPU code runs.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return dawn;
}

export type AdapterChoice = 'auto' | 'hardware' | 'software';

/** VK_ICD_FILENAMES / VK_DRIVER_FILES as the user set them (captured once, before any fallback changes them). */
let originalIcd: string | null | undefined;
function userIcdChoice(): string | null {
  if (originalIcd === undefined) originalIcd = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || null;
  return originalIcd;
}

function isSoftwareInfo(info: GPUAdapterInfo): boolean {
  return /swiftshader|llvmpipe|lavapipe|cpu/i.test(`${info.architecture} ${info.description} ${info.device} ${info.vendor}`);
}

/**
 * Dawn instances, one per Vulkan driver choice, kept for the life of the process. Collecting an
 * instance (even after its devices were destroyed) can abort the process inside Dawn ("The futex
 * facility returned an unexpected error code"), so instances are created once and reused.
 */
const instances = new Map<string, GPU>();

async function tryAdapter(mod: DawnModule, powerPreference: GPUPowerPreference): Promise<{ instance: GPU; adapter: GPUAdapter } | null> {
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? '';
  let instance = instances.get(icd);
  if (!instance) {
    instance = mod.create([]);
    instances.set(icd, instance);
  }
  const adapter = await instance.requestAdapter({ powerPreference });
  return adapter ? { instance, adapter } : null;
}

/**
 * Picks the adapter. `auto`: a hardware Vulkan driver if one answers, else SwiftShader with a notice.
 * The Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its instance, so we set it before create().
 */
export async function requestNodeAdapter(choice: AdapterChoice, powerPreference: GPUPowerPreference = 'high-performance'): Promise<NodeAdapterResult> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const mod = await loadDawn();
  // The user's own driver choice, read before we ever point VK_ICD_FILENAMES at SwiftShader ourselves.
  const userIcd = userIcdChoice();
  const swiftshader = findSwiftShaderIcd();

  if (choice !== 'software' && (userIcd || findHardwareIcds().length > 0)) {
    if (userIcd) process.env.VK_ICD_FILENAMES = userIcd;
    else delete process.env.VK_ICD_FILENAMES;
    const got = await tryAdapter(mod, powerPreference);
    const software = got ? isSoftwareInfo(got.adapter.info) : false;
    // A user-chosen driver is honoured as is in auto mode; `hardware` never accepts a software adapter.
    if (got && (!software || (userIcd && choice === 'auto'))) return { ...got, notice: software ? softwareNotice(got.adapter) : null };
    if (choice === 'hardware') {
      throw new AdapterUnavailableError('no hardware GPU adapter answered', 'check the GPU driver (`vulkaninfo --summary`), or use --adapter software');
    }
  } else if (choice === 'hardware') {
    throw new AdapterUnavailableError('no hardware Vulkan driver is installed', 'install the GPU vendor driver, or use --adapter software');
  }

  if (!swiftshader) {
    throw new AdapterUnavailableError(
      'no hardware GPU adapter and no SwiftShader Vulkan driver found',
      'install Debian\'s chromium package (it ships SwiftShader): `sudo apt-get install chromium libvulkan1`, or set EI_SWIFTSHADER_ICD to a vk_swiftshader_icd.json',
    );
  }
  process.env.VK_ICD_FILENAMES = swiftshader;
  const got = await tryAdapter(mod, powerPreference);
  if (!got) {
    throw new AdapterUnavailableError(
      `SwiftShader (${swiftshader}) gave no WebGPU adapter`,
      'check that the Vulkan loader is installed: `sudo apt-get install libvulkan1`',
    );
  }
  return { ...got, notice: softwareNotice(got.adapter) };
}

function softwareNotice(adapter: GPUAdapter): string {
  const d = adapter.info;
  return `ei: no hardware GPU adapter; using software adapter ${d.vendor}/${d.architecture} (SwiftShader) — correct but slow`;
}
