// `npm run kit`: builds kit-build/, a folder that runs the hardware check on a bare x86-64 Linux machine with a GPU
// driver and nothing else: this Node binary and Dawn's dawn.node (both gzipped, unpacked by the start script), the
// CLI and the check bundled into plain JavaScript, the build machine's Vulkan loader as a fallback, and the start
// script. Nothing is downloaded: every piece comes from this machine and node_modules.
import { build, type BuildOptions } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'kit-build');
/** The kit must fit where it is copied to (a scp, a job's staging area): 60 MiB in all. */
const maxKitBytes = 60 * 2 ** 20;
const vulkanLoaderCandidates = ['/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

function fail(message: string, fix: string): never {
  console.error(`kit: error: ${message}\n  fix: ${fix}`);
  process.exit(1);
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    total += s.isDirectory() ? folderBytes(p) : s.size;
  }
  return total;
}

function gzipInto(from: string, to: string): void {
  // Level 6: within 1% of level 9 on the Node binary at less than half the time.
  writeFileSync(to, gzipSync(readFileSync(from), { level: 6 }));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the kit is for linux-x64; this is ${process.platform}-${process.arch}`, 'build it on an x86-64 Linux machine');
  const dawn = join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node');
  if (!existsSync(dawn)) fail(`${dawn} is missing`, 'run `npm install` (the webgpu package ships it)');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'lib'), { recursive: true });

  // The bundles import 'webgpu' at run time (src/gpu/node-webgpu.ts loads it by a computed name): a minimal copy of the
  // package beside them, its JS and the linux-x64 addon only (the addon gzipped; the start script unpacks it here).
  const webgpuDir = join(out, 'lib/node_modules/webgpu');
  mkdirSync(join(webgpuDir, 'dist/linux-x64'), { recursive: true });
  for (const f of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(root, 'node_modules/webgpu', f), join(webgpuDir, f));
  gzipInto(dawn, join(out, 'dawn.node.gz'));

  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    // Bundled CommonJS dependencies call require(): give the ES module one.
    banner: { js: "import { createRequire as __eiCreateRequire } from 'node:module'; const require = __eiCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  };
  await build({
    ...common,
    stdin: { contents: "import { main } from './src/cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n", resolveDir: root, sourcefile: 'ei-kit-entry.ts', loader: 'ts' },
    outfile: join(out, 'lib/ei.mjs'),
  });
  await build({ ...common, entryPoints: [join(root, 'bench/hardware-check.ts')], outfile: join(out, 'lib/hardware-check.mjs') });

  gzipInto(process.execPath, join(out, 'node.gz'));
  const loader = vulkanLoaderCandidates.find((p) => existsSync(p));
  if (loader) copyFileSync(realpathSync(loader), join(out, 'lib/libvulkan.so.1'));
  else console.error('kit: note: no Vulkan loader (libvulkan.so.1) on this machine to bring along; the target must have its own (apt-get install libvulkan1 here to include one)');

  copyFileSync(join(root, 'scripts/kit-hardware-check.sh'), join(out, 'hardware-check'));
  chmodSync(join(out, 'hardware-check'), 0o755);
  // The start script unpacks into a cache folder named by this id, so a rebuilt kit never reuses an old unpack.
  const id = createHash('sha256').update(readFileSync(join(out, 'node.gz'))).update(readFileSync(join(out, 'dawn.node.gz'))).digest('hex').slice(0, 16);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(out, 'kit.json'), JSON.stringify({ id, engineVersion: pkg.version, node: process.version, builtAt: new Date().toISOString(), vulkanLoader: loader ?? null }, null, 2) + '\n');

  const bytes = folderBytes(out);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (bytes > maxKitBytes) fail(`kit-build/ is ${mib(bytes)}, over the ${mib(maxKitBytes)} limit`, 'see which file grew (du -a kit-build | sort -n) and shrink or leave it out');
  console.log(`kit: wrote ${out} (${mib(bytes)}, ${((performance.now() - t0) / 1000).toFixed(1)} s); run it with kit-build/hardware-check --budget 480 --out DIR`);
}

await main();
