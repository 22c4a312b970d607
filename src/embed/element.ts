// <ei-simulation>: the embedded simulation as a custom element configured by its attributes. Registered by
// defineSimulationElement(), never by importing the package, so a page chooses the tag name and when it is defined.
import { ParameterError } from '../errors.ts';
import { SimulationView, type EmbedBackend, type EmbedOptions, type EmbedState } from './view.ts';

/** The attributes <ei-simulation> reads (HTML lowercases names, so `T` is observed as `t`). */
export const simulationElementAttributes = ['model', 'n', 'steps', 't', 'seed', 'backend', 'threads', 'params'] as const;

/** An <ei-simulation> element: the view's controls as methods, and whether it was disposed (it is when removed). */
export interface SimulationElement extends HTMLElement {
  start(): Promise<void>;
  stop(): void;
  reset(): void;
  readonly state: EmbedState | null;
  readonly disposed: boolean;
}

/** A strict decimal (no hex, no empty string, no 'Infinity'), as the CLI accepts. */
const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The options an element's attributes give; a malformed one is a ParameterError naming the attribute. */
export function readSimulationAttributes(e: Element): EmbedOptions {
  const number = (name: string, field = name): number | undefined => {
    const raw = e.getAttribute(name);
    if (raw === null) return undefined;
    if (!decimal.test(raw.trim())) throw new ParameterError(field, `'${raw}' is not a decimal number`, `set ${field}="<number>", or remove the attribute for the model's default`);
    return Number(raw);
  };
  const options: EmbedOptions = { model: e.getAttribute('model') ?? '' };
  const n = number('n');
  const steps = number('steps');
  const T = number('t', 'T');
  const seed = number('seed');
  const threads = number('threads');
  if (n !== undefined) options.n = n;
  if (steps !== undefined) options.steps = steps;
  if (T !== undefined) options.T = T;
  if (seed !== undefined) options.seed = seed;
  if (threads !== undefined) options.threads = threads;
  const backend = e.getAttribute('backend');
  if (backend !== null) options.backend = backend as EmbedBackend;
  const params = e.getAttribute('params');
  if (params !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params);
    } catch {
      throw new ParameterError('params', `'${params}' is not JSON`, `write params as a JSON object, e.g. params='{"JE": 1.5}'`);
    }
    const ok = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'number' || typeof v === 'string');
    if (!ok) throw new ParameterError('params', `'${params}' is not an object of numbers and strings`, `write params as a JSON object, e.g. params='{"JE": 1.5}'`);
    options.params = parsed as Record<string, string | number>;
  }
  return options;
}

/**
 * Defines <ei-simulation> (or `tagName`) in this window's custom element registry and returns its class; calling it
 * again returns the class already defined. The class is made here, not at import, since HTMLElement exists only in a page.
 */
export function defineSimulationElement(tagName = 'ei-simulation'): CustomElementConstructor {
  const existing = customElements.get(tagName);
  if (existing) return existing;
  class EiSimulationElement extends HTMLElement implements SimulationElement {
    static readonly observedAttributes = simulationElementAttributes;
    private view: SimulationView | null = null;
    private readonly root = this.attachShadow({ mode: 'open' });

    connectedCallback(): void {
      // A fresh view each time: the last one was disposed when the element left the page.
      if (!this.view || this.view.disposed) this.view = new SimulationView(this.root, this, () => readSimulationAttributes(this));
    }

    disconnectedCallback(): void {
      this.view?.dispose();
    }

    attributeChangedCallback(): void {
      this.view?.configure();
    }

    start(): Promise<void> {
      return this.view?.start() ?? Promise.resolve();
    }

    stop(): void {
      this.view?.stop();
    }

    reset(): void {
      this.view?.reset();
    }

    get state(): EmbedState | null {
      return this.view?.snapshot() ?? null;
    }

    get disposed(): boolean {
      return this.view?.disposed ?? false;
    }
  }
  customElements.define(tagName, EiSimulationElement);
  return EiSimulationElement;
}
