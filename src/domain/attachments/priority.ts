import { readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the priority (`nice`) of the work that checks and re-encodes uploads, so that it
 * gets what the event loop leaves. On Linux a priority belongs to a thread, and a new
 * thread takes its creator's: `process` lowers every thread there is so far (V8's own
 * among them; the ones started later follow), `thread` only the calling one (a worker
 * thread's, found through /proc/thread-self). Elsewhere `process` lowers the process and
 * `thread` does nothing. A system that refuses changes nothing: the work still runs.
 */
export function lowerPriority(nice: number, scope: 'process' | 'thread'): void {
  for (const tid of threadsOf(scope)) {
    try {
      setPriority(tid, nice);
    } catch {
      // A thread that has ended, or no permission: left as it is.
    }
  }
}

function threadsOf(scope: 'process' | 'thread'): number[] {
  try {
    return scope === 'process'
      ? readdirSync('/proc/self/task').map(Number)
      : [Number(readlinkSync('/proc/thread-self').split('/').pop())];
  } catch {
    return scope === 'process' ? [0] : [];
  }
}
