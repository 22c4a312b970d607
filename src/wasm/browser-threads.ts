// Browser: the wasm kernels' worker threads are Web Workers (registered by the browser entry), running the same worker
// code as Node's worker_threads from a Blob URL; only on a cross-origin isolated page, the one place with shared memory.
import { getThreadSpawner, setThreadSpawner, setThreadsUnavailable, type SpawnedThread } from './threads.ts';

/** What a page must do to get more than one wasm thread. */
export const crossOriginIsolationFix =
  'serve the page cross-origin isolated, with the HTTP headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use threads 1';

const blobUrls = new Map<string, string>();

/** One Blob URL per worker code (a few constants), kept for the page's life: workers may still be loading it. */
function workerUrl(code: string): string {
  let url = blobUrls.get(code);
  if (!url) {
    // The worker code reads `workerData`: here the first message (the module, the shared memory, the control block).
    const script = `self.onmessage = (event) => {\n  self.onmessage = null;\n  const workerData = event.data;\n${code}\n};\n`;
    url = URL.createObjectURL(new Blob([script], { type: 'text/javascript' }));
    blobUrls.set(code, url);
  }
  return url;
}

/**
 * Registers Web Workers as the wasm thread spawner, with navigator.hardwareConcurrency cores, when the page is cross-origin
 * isolated; otherwise registers why there are none (errors and notices name the fix). Does nothing where a spawner is
 * registered already (the Node entry imports worker_threads' first) or there is no Worker (Node, some workers).
 */
function registerBrowserThreads(): void {
  if (getThreadSpawner() || typeof Worker !== 'function') return;
  const cores = (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1;
  if (globalThis.crossOriginIsolated !== true || typeof SharedArrayBuffer === 'undefined') {
    setThreadsUnavailable('this page is not cross-origin isolated, so it has no SharedArrayBuffer for threads to share', crossOriginIsolationFix, cores);
    return;
  }
  setThreadSpawner((code, data) => {
    const w = new Worker(workerUrl(code), { name: 'ei-wasm-thread' });
    const thread: SpawnedThread = { terminate: () => w.terminate(), failure: null };
    w.addEventListener('error', (e) => {
      thread.failure = e.message || 'the worker script failed to load';
    });
    w.addEventListener('messageerror', () => {
      thread.failure = 'the worker could not receive the module and shared memory';
    });
    w.postMessage(data);
    return thread;
  }, cores);
}

registerBrowserThreads();
