// Browser-tier helpers: Chromium's flags, a static file server on 127.0.0.1 (a secure context, so navigator.gpu exists),
// a timeout, the set-up every browser test shares (a Vite build served statically, headless Chromium, pages whose
// errors are collected) and its tear-down.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type ConsoleMessage, type Page } from 'puppeteer';
import { build, type InlineConfig } from 'vite';
import { beforeAll } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Where browser tests leave screenshots. */
export const testOutputDir = join(repoRoot, 'test-output');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/** Headless Chromium with WebGPU on SwiftShader (Vulkan), quiet and without a sandbox (CI containers). */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** Chromium from Debian (scripts/setup.sh), or EI_CHROMIUM. */
export const chromiumPath = process.env.EI_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The headers a static host (Netlify, Cloudflare Pages) sends for every path from the `/*` rule of `dir/_headers`, as
 * demo/public/_headers writes them; {} without the file.
 */
export function readHeadersFile(dir: string): Record<string, string> {
  const file = join(dir, '_headers');
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  let inRule = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) inRule = line.trim() === '/*';
    else if (inRule) {
      const m = /^\s+([^:\s]+):\s*(.*\S)\s*$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
  }
  return out;
}

/** A static file server for the built demo, bound to 127.0.0.1 (a secure context, so navigator.gpu exists), sending `headers` with every file. */
export async function serveDirectory(dir: string, headers: Record<string, string> = {}): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(dir + sep) || !(await stat(file)).isFile()) throw new Error('not found');
      res.writeHead(200, { ...headers, 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Runs `setUp` in beforeAll and keeps what it gives or its failure (no Chromium, a broken build): `ready()`, which
 * every test calls first, returns the first or rethrows the second, so each test fails rather than being reported as
 * skipped.
 */
export function beforeAllOrFail<T>(setUp: () => Promise<T>, timeoutMs: number): () => T {
  let value: T | undefined;
  let setupError: unknown = null;
  beforeAll(async () => {
    try {
      value = await setUp();
    } catch (e) {
      setupError = e;
    }
  }, timeoutMs);
  return () => {
    if (setupError) throw setupError;
    return value!;
  };
}

/** Throws, saying how to get it, when Chromium is not at chromiumPath. */
export function requireChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: the browser tests need Debian's chromium (it also ships SwiftShader). ` +
        'Run `npm run setup` (scripts/setup.sh) or `sudo apt-get install chromium`, or set EI_CHROMIUM to a Chromium binary.',
    );
  }
}

/** Collects a page's uncaught errors into `pageErrors` and, when given, its console.error lines into `consoleErrors`. */
export function capturePageErrors(page: Page, pageErrors: string[], consoleErrors?: string[]): void {
  if (consoleErrors) {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
  }
  page.on('pageerror', (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));
}

/** What a browser test sets up and its afterAll takes down: a static server of a Vite build, Chromium, temporary folders. */
export class BrowserSession {
  server: http.Server | null = null;
  baseUrl = '';
  browser: Browser | null = null;
  private readonly tempDirs: string[] = [];

  /** A new folder under the OS temporary folder; close() removes it. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.tempDirs.push(dir);
    return dir;
  }

  /** A Vite build with `config`, given `timeoutMs` to finish, then its outDir served on 127.0.0.1; returns the base URL. */
  async buildAndServe(config: InlineConfig & { build: { outDir: string } }, timeoutMs: number, what: string): Promise<string> {
    await withTimeout(build(config), timeoutMs, what);
    const served = await serveDirectory(resolve(config.build.outDir));
    this.server = served.server;
    this.baseUrl = served.url;
    return served.url;
  }

  /** demo/ built with vite.config.ts into a temporary folder and served. */
  buildAndServeDemo(prefix: string): Promise<string> {
    const outDir = this.tempDir(prefix);
    // A production build served statically: no HMR socket or dependency optimiser that could reload the page mid-run.
    return this.buildAndServe(
      { configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } },
      60_000,
      'vite build of demo/',
    );
  }

  /** Headless Chromium (chromiumPath) with `args` and a fresh profile in a temporary folder. */
  async launch(profilePrefix: string, args: readonly string[] = chromiumArgs): Promise<Browser> {
    this.browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true, // adds --headless=new
      args: [...args],
      userDataDir: this.tempDir(profilePrefix),
      timeout: 30_000,
      protocolTimeout: 120_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
    });
    return this.browser;
  }

  /** A new page: 30 s default timeout, a 1280 x 900 viewport, its errors collected (capturePageErrors). */
  async newPage(pageErrors: string[], consoleErrors?: string[]): Promise<Page> {
    const page = await this.browser!.newPage();
    page.setDefaultTimeout(30_000);
    await page.setViewport({ width: 1280, height: 900 });
    capturePageErrors(page, pageErrors, consoleErrors);
    return page;
  }

  /** Closes Chromium (killed if it does not close within 15 s) and the server, and removes the temporary folders. */
  async close(): Promise<void> {
    const b = this.browser;
    this.browser = null;
    if (b) await withTimeout(b.close(), 15_000, 'closing Chromium').catch(() => b.process()?.kill('SIGKILL'));
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
    for (const d of this.tempDirs.splice(0)) {
      // Chromium's helpers (GPU process, crashpad) can outlive the browser and keep writing the profile: they name
      // the profile folder on their command line, so they are stopped by it before the folder goes.
      spawnSync('pkill', ['-KILL', '-f', d]);
      rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  }
}
