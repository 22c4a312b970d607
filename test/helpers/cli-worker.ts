// A child process that runs `ei` invocations in-process, one at a time, for test/helpers/cli-pool.ts.
// Started with `node --import tsx test/helpers/cli-worker.ts`; receives {id, argv} over IPC and answers
// {id, code, out, err}. Running many cases in one long-lived child costs about what an in-process call
// costs, yet a case that hangs in a synchronous loop or runs out of memory only takes this process down,
// and the parent can kill it on a time limit (an in-process timer cannot interrupt a synchronous hang).
import { main } from '../../src/cli/main.ts';

interface Request {
  id: number;
  argv: string[];
}

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

let out: string[] = [];
let err: string[] = [];
console.log = (...a: unknown[]) => void out.push(a.map(String).join(' '));
console.error = (...a: unknown[]) => void err.push(a.map(String).join(' '));
console.warn = console.error;
console.info = console.log;

let queue: Promise<void> = Promise.resolve();
process.on('message', (m: Request) => {
  queue = queue.then(async () => {
    out = [];
    err = [];
    let code: number;
    try {
      code = await main(m.argv);
    } catch (e) {
      // main() prints and returns instead of throwing; a throw escaping it is itself a finding.
      err.push(`cli-worker: main() threw: ${(e as Error)?.stack ?? String(e)}`);
      code = -1;
    }
    await send({ id: m.id, code, out: out.join('\n'), err: err.join('\n') });
  });
});
process.on('disconnect', () => process.exit(0));
void send({ ready: true });
