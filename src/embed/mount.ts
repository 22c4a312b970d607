// mount(): an embedded simulation in any element of a page, with a handle to start, stop, reset and dispose it.
import { SimulationView, type EmbedOptions, type EmbedState } from './view.ts';

/** What mount() returns. */
export interface MountedSimulation {
  /** Runs the model; resolves when the run ended (done, stopped or refused: see `state`). */
  start(): Promise<void>;
  /** Stops a run at its next chunk of steps. */
  stop(): void;
  /** Stops a run and clears its results. */
  reset(): void;
  /** The options for the next start: applied at once while idle, at the next start while a run is going. */
  update(options: EmbedOptions): void;
  readonly state: EmbedState;
  readonly disposed: boolean;
  /** Stops the run, frees the engine (GPU device, wasm workers) and removes the view; idempotent. */
  dispose(): void;
}

/**
 * Shows a simulation of `options.model` in `element` (appended, in its own shadow root so pages and other instances do
 * not share styles or ids): a header with the model, backend and adapter, Start / Stop / Reset, a progress bar, then
 * the summary numbers and the first SVG figure. A bad option is shown in the view with the field it names.
 */
export function mount(element: HTMLElement, options: EmbedOptions): MountedSimulation {
  // A host of our own: `element` may already have a shadow root, or be one of the elements that cannot have one.
  const host = document.createElement('div');
  host.className = 'ei-simulation';
  element.append(host);
  let current = options;
  const view = new SimulationView(host.attachShadow({ mode: 'open' }), host, () => current);
  return {
    start: () => view.start(),
    stop: () => view.stop(),
    reset: () => view.reset(),
    update(next) {
      current = next;
      view.configure();
    },
    get state() {
      return view.snapshot();
    },
    get disposed() {
      return view.disposed;
    },
    dispose() {
      view.dispose();
      host.remove();
    },
  };
}
