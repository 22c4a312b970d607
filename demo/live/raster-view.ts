// The live pages' spike raster: points kept in a ring on the host, drawn as quads (six vertices each, one draw) by a WebGPU render pass
// (raster.wgsl), or on a 2D canvas where WebGPU is not available (the page says so).
import { mat4 } from 'gl-matrix';
import rasterShader from './raster.wgsl?raw';

/** What the raster shows: the time window (x) and the neurons (y); neurons from firstInhibitory on get the I colour. */
export interface RasterWindow {
  t0: number;
  t1: number;
  neurons: number;
  firstInhibitory: number;
}

export interface RasterView {
  /** 'webgpu' (a render pass) or '2d' (the fallback), and why the fallback. */
  readonly kind: 'webgpu' | '2d';
  readonly fallbackReason: string | null;
  /** The GPU adapter drawing the raster, in words ('' for the 2D fallback). */
  readonly adapter: string;
  /** Points drawn by the last draw(). */
  readonly drawn: number;
  /** Appends (t, neuron) pairs; the oldest are overwritten once the ring is full. */
  append(points: Float32Array): void;
  clear(): void;
  setWindow(w: RasterWindow): void;
  draw(): void;
  /** Waits until the GPU has finished what was submitted (frame timing); immediate for the 2D fallback. */
  finished(): Promise<void>;
  dispose(): void;
}

const excitatory = [0.11, 0.36, 0.68, 1];
const inhibitory = [0.8, 0.25, 0.18, 1];
/** Points the ring holds: more than any window of the live pages shows, and 2 MiB of vertex data. */
export const rasterCapacity = 1 << 18;
/** Size of a point, in CSS pixels. */
const pointPixels = 1.6;

/** Host copy of the points: a ring of (t, neuron) pairs, with the range written since the last upload. */
class PointRing {
  readonly data = new Float32Array(2 * rasterCapacity);
  count = 0;
  head = 0;
  /** Points appended since the last upload (at most the capacity). */
  pending = 0;

  append(points: Float32Array): void {
    const k = points.length / 2;
    // Only the newest `capacity` of a huge append can survive.
    const start = Math.max(0, k - rasterCapacity);
    for (let i = start; i < k; i++) {
      this.data[2 * this.head] = points[2 * i];
      this.data[2 * this.head + 1] = points[2 * i + 1];
      this.head = (this.head + 1) % rasterCapacity;
    }
    this.count = Math.min(rasterCapacity, this.count + (k - start));
    this.pending = Math.min(rasterCapacity, this.pending + (k - start));
  }

  clear(): void {
    this.count = this.head = this.pending = 0;
  }
}

/** The raster on WebGPU, or why not (no navigator.gpu, adapter, device or context) as a string. */
async function createWebGpuRaster(canvas: HTMLCanvasElement, ring: PointRing): Promise<RasterView | string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return 'navigator.gpu is missing (WebGPU needs a recent Chrome or Edge and a secure context)';
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return 'no WebGPU adapter answered';
  const device = await adapter.requestDevice({ label: 'LiveRaster.device' }).catch((e: unknown) => e as Error);
  if (device instanceof Error) return `the adapter gave no device (${device.message})`;
  const context = canvas.getContext('webgpu');
  if (!context) {
    device.destroy();
    return 'the canvas gave no webgpu context';
  }
  const format = gpu.getPreferredCanvasFormat();
  context.configure({ device, format, alphaMode: 'premultiplied' });
  const module = device.createShaderModule({ label: 'LiveRaster.shader (raster.wgsl)', code: rasterShader });
  const bindLayout = device.createBindGroupLayout({
    label: 'LiveRaster.viewLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.VERTEX, buffer: { type: 'uniform' } },
      { binding: 1, visibility: GPUShaderStage.VERTEX, buffer: { type: 'read-only-storage' } },
    ],
  });
  const pipeline = device.createRenderPipeline({
    label: 'LiveRaster.pipeline',
    layout: device.createPipelineLayout({ label: 'LiveRaster.pipelineLayout', bindGroupLayouts: [bindLayout] }),
    vertex: {
      module,
      entryPoint: 'placeSpikeQuad',
    },
    fragment: { module, entryPoint: 'shadeSpike', targets: [{ format }] },
    primitive: { topology: 'triangle-list' },
  });
  // RasterView in raster.wgsl: mat4x4f (64 bytes), vec2f, f32, f32, two vec4f: 112 bytes.
  const viewBytes = 112;
  const viewBuffer = device.createBuffer({ label: 'LiveRaster.view', size: viewBytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const points = device.createBuffer({ label: 'LiveRaster.points', size: 8 * rasterCapacity, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({ label: 'LiveRaster.viewBindGroup', layout: bindLayout, entries: [{ binding: 0, resource: { buffer: viewBuffer } }, { binding: 1, resource: { buffer: points } }] });
  const viewData = new Float32Array(viewBytes / 4);
  const matrix = mat4.create();
  let win: RasterWindow = { t0: 0, t1: 1, neurons: 1, firstInhibitory: Infinity };
  let disposed = false;
  let drawn = 0;
  const info = adapter.info;
  const describe = [info?.vendor, info?.architecture, info?.description].filter((x) => x).join(' · ') || 'unknown adapter';

  const upload = () => {
    if (ring.pending === 0) return;
    // The ring's newest `pending` points end at head (exclusive), possibly wrapping around the end.
    const end = ring.head;
    const start = (end - ring.pending + rasterCapacity) % rasterCapacity;
    const write = (from: number, to: number) => device.queue.writeBuffer(points, 8 * from, ring.data, 2 * from, 2 * (to - from));
    if (start < end) write(start, end);
    else {
      write(start, rasterCapacity);
      if (end > 0) write(0, end);
    }
    ring.pending = 0;
  };

  return {
    kind: 'webgpu',
    fallbackReason: null,
    adapter: describe,
    get drawn() {
      return drawn;
    },
    append: (p) => ring.append(p),
    clear: () => ring.clear(),
    setWindow(w) {
      win = w;
    },
    draw() {
      if (disposed) return;
      const width = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
      const height = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      upload();
      // Neuron i is drawn centred in row [i, i + 1); time runs left to right.
      mat4.orthoZO(matrix, win.t0, win.t1, 0, Math.max(1, win.neurons), -1, 1);
      viewData.set(matrix, 0);
      viewData[16] = (pointPixels * devicePixelRatio) / width;
      viewData[17] = Math.max((pointPixels * devicePixelRatio) / height, 0.45 / Math.max(1, win.neurons));
      viewData[18] = Number.isFinite(win.firstInhibitory) ? win.firstInhibitory : 3.4e38;
      viewData.set(excitatory, 20);
      viewData.set(inhibitory, 24);
      device.queue.writeBuffer(viewBuffer, 0, viewData);
      const encoder = device.createCommandEncoder({ label: 'LiveRaster.frame' });
      const pass = encoder.beginRenderPass({
        label: 'LiveRaster.pass',
        colorAttachments: [{ view: context.getCurrentTexture().createView({ label: 'LiveRaster.target' }), loadOp: 'clear', storeOp: 'store', clearValue: { r: 1, g: 1, b: 1, a: 1 } }],
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.draw(6 * ring.count);
      pass.end();
      device.queue.submit([encoder.finish()]);
      drawn = ring.count;
    },
    finished: () => (disposed ? Promise.resolve() : device.queue.onSubmittedWorkDone()),
    dispose() {
      if (disposed) return;
      disposed = true;
      context.unconfigure();
      points.destroy();
      viewBuffer.destroy();
      device.destroy();
    },
  };
}

/** The raster on a 2D canvas: the same points, one fillRect each. */
function create2dRaster(canvas: HTMLCanvasElement, ring: PointRing, reason: string): RasterView {
  const g = canvas.getContext('2d')!;
  let win: RasterWindow = { t0: 0, t1: 1, neurons: 1, firstInhibitory: Infinity };
  let drawn = 0;
  const css = (c: number[]) => `rgb(${c.slice(0, 3).map((x) => Math.round(255 * x)).join(',')})`;
  return {
    kind: '2d',
    fallbackReason: reason,
    adapter: '',
    get drawn() {
      return drawn;
    },
    append: (p) => ring.append(p),
    clear: () => ring.clear(),
    setWindow(w) {
      win = w;
    },
    draw() {
      const width = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
      const height = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      g.fillStyle = '#fff';
      g.fillRect(0, 0, width, height);
      const sx = width / (win.t1 - win.t0 || 1);
      const sy = height / Math.max(1, win.neurons);
      const w = Math.max(1, pointPixels * devicePixelRatio);
      const h = Math.max(1, Math.min(sy * 0.9, 2 * pointPixels * devicePixelRatio));
      for (const [color, inhib] of [[excitatory, false], [inhibitory, true]] as const) {
        g.fillStyle = css(color);
        for (let i = 0; i < ring.count; i++) {
          const t = ring.data[2 * i];
          const k = ring.data[2 * i + 1];
          if (k >= win.firstInhibitory !== inhib || t < win.t0 || t > win.t1) continue;
          g.fillRect((t - win.t0) * sx - w / 2, height - (k + 0.5) * sy - h / 2, w, h);
        }
      }
      ring.pending = 0;
      drawn = ring.count;
    },
    finished: () => Promise.resolve(),
    dispose() {},
  };
}

/** A raster on `canvas`: WebGPU when an adapter and device answer (force2d: the fallback, e.g. ?raster=2d), else 2D with the reason. */
export async function createRasterView(canvas: HTMLCanvasElement, force2d = false): Promise<RasterView> {
  const ring = new PointRing();
  if (force2d) return create2dRaster(canvas, ring, 'the 2D raster was asked for (?raster=2d)');
  const gpu = await createWebGpuRaster(canvas, ring).catch((e: unknown) => `WebGPU failed: ${(e as Error).message}`);
  if (typeof gpu === 'string') return create2dRaster(canvas, ring, gpu);
  return gpu;
}

/**
 * Frames per second of a raster of `points` random points in a window of `neurons` rows, drawn `frames` times (each
 * frame waits for the GPU, so the time is the whole frame's): what the README quotes.
 */
export async function measureRasterFps(view: RasterView, points: number, frames: number, neurons = 1000): Promise<{ fps: number; points: number; frames: number; kind: string; adapter: string }> {
  view.clear();
  const p = new Float32Array(2 * points);
  for (let i = 0; i < points; i++) {
    p[2 * i] = Math.random();
    p[2 * i + 1] = Math.floor(Math.random() * neurons);
  }
  view.append(p);
  view.setWindow({ t0: 0, t1: 1, neurons, firstInhibitory: neurons * 0.8 });
  // One frame to upload the points and build the pipeline's state, outside the timing.
  view.draw();
  await view.finished();
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    view.draw();
    await view.finished();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { fps: frames / seconds, points: view.drawn, frames, kind: view.kind, adapter: view.adapter };
}
