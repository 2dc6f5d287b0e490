import type { Logger } from 'pino';
import type { AppError } from '../errors.js';

export interface IsolatedRunnerOptions {
  /** What runs the work, for the log: "The PDF check's worker". */
  name: string;
  /** A job still running after this long is given up: its runner is stopped. */
  timeLimitMs: number;
  /** The error a job gets when its runner dies or runs out of time. */
  refusal: () => AppError;
  log?: Pick<Logger, 'warn'> | undefined;
}

interface Waiting<J, T> {
  job: J;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * Work on uploads that must not run on the event loop, and must not take the server with it
 * when a file crashes, hangs or exhausts it: one job at a time in a runner of its own (a
 * worker thread, a child process), started when first needed. A runner that dies or runs
 * past the time limit costs its job alone the `refusal`, and the next job gets a new
 * runner. Subclasses say how to start, feed and stop a runner, and hand its answers to
 * `answer`, its end to `lost`.
 */
export abstract class IsolatedRunner<H, J, T> {
  private handle: H | undefined;
  private current: (Waiting<J, T> & { id: number; timer: NodeJS.Timeout }) | undefined;
  private readonly queue: Waiting<J, T>[] = [];
  private ids = 0;
  private closed = false;

  protected constructor(private readonly runner: IsolatedRunnerOptions) {}

  protected abstract start(): H;
  /** Hands the job to the runner; its answer comes back through `answer` with this id. */
  protected abstract dispatch(handle: H, job: J, id: number): void;
  protected abstract stop(handle: H): Promise<void>;
  /** Called when the queue runs dry: a runner waiting for work may let the process exit. */
  protected abstract idle(handle: H): void;

  /** The runner now running, if any. */
  protected get running(): H | undefined {
    return this.handle;
  }

  protected enqueue(job: J): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`${this.runner.name} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  /** Stops the runner; jobs still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = new Error(`${this.runner.name} is closed`);
    for (const waiting of this.queue.splice(0)) waiting.reject(closing);
    this.settle((w) => w.reject(closing));
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) await this.stop(handle);
  }

  /**
   * The runner's answer to the job it holds. An answer from a runner already given up on,
   * or (with an id) to a job already settled, belongs to no one.
   */
  protected answer(handle: H, id: number | undefined, outcome: Outcome<T>): void {
    if (this.handle !== handle || !this.current) return;
    if (id !== undefined && id !== this.current.id) return;
    this.settle((w) => ('value' in outcome ? w.resolve(outcome.value) : w.reject(outcome.error)));
    if (this.queue.length === 0) this.idle(handle);
    this.next();
  }

  /** The runner ended (crashed, ran out of memory, was killed): its job is refused. */
  protected lost(handle: H, why: string): void {
    if (this.handle !== handle) return;
    this.handle = undefined;
    if (this.current) this.runner.log?.warn(`${this.runner.name} stopped: ${why}`);
    this.settle((w) => w.reject(this.runner.refusal()));
    this.next();
  }

  private next(): void {
    if (this.current || this.closed) return;
    const waiting = this.queue.shift();
    if (!waiting) return;
    const handle = (this.handle ??= this.start());
    const id = ++this.ids;
    const timer = setTimeout(() => {
      this.runner.log?.warn(`${this.runner.name} ran past its time limit and was stopped`);
      this.settle((w) => w.reject(this.runner.refusal()));
      // Forgotten at once, so the next job gets a new runner.
      if (this.handle === handle) this.handle = undefined;
      void this.stop(handle);
      this.next();
    }, this.runner.timeLimitMs);
    this.current = { ...waiting, id, timer };
    this.dispatch(handle, waiting.job, id);
  }

  private settle(answer: (waiting: Waiting<J, T>) => void): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    clearTimeout(current.timer);
    answer(current);
  }
}

export type Outcome<T> = { value: T } | { error: unknown };
