// The engine's errors as an embedding page reads them: a fix written for the CLI (`--set k=10`, `--n`) names the
// option or attribute that does the same in an <ei-simulation> element or mount() call.
import { EiError } from '../errors.ts';

/** CLI flags with an embedding option of the same meaning (the element's attribute has the same name, lowercased). */
const embedOptions: Readonly<Record<string, string>> = { n: 'n', T: 'T', steps: 'steps', seed: 'seed', backend: 'backend', threads: 'threads' };

/** A fix text with the CLI's flags replaced by the embedding's options; flags it has no option for are marked as the CLI's. */
export function makeEmbedHint(hint: string): string {
  return hint
    // A value is a number, a word, or a placeholder such as <value in [0, 1]> (kept as it is).
    .replace(/--set ([A-Za-z][A-Za-z0-9_]*)=(<[^>]*>|[^\s,;)]+)/g, (_, name: string, value: string) => `params {"${name}": ${value.startsWith('<') || /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? value : JSON.stringify(value)}}`)
    .replace(/--([A-Za-z][A-Za-z-]*)(?: ([+-]?\d[^\s,;)]*))?/g, (flag: string, name: string, value?: string) => {
      if (!Object.hasOwn(embedOptions, name)) return `${flag} (CLI only)`;
      return value === undefined ? embedOptions[name] : `${embedOptions[name]}=${value}`;
    });
}

/** A problem text with the flags the embedding has an option for named as that option (`invalid --n:` is `invalid n:`). */
function makeEmbedProblem(problem: string): string {
  return problem.replace(/--([A-Za-z][A-Za-z-]*)/g, (flag: string, name: string) => (Object.hasOwn(embedOptions, name) ? embedOptions[name] : flag));
}

/** The message an embedding shows for an error: the engine's own problem, then its fix, in the embedding's words. */
export function makeEmbedErrorText(e: unknown): string {
  if (e instanceof EiError) {
    const problem = makeEmbedProblem(e.hint ? e.message.slice(0, e.message.length - `\n  fix: ${e.hint}`.length) : e.message);
    return e.hint ? `${problem}\n  fix: ${makeEmbedHint(e.hint)}` : problem;
  }
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}
