import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/domain/group-commit.js';

interface Item {
  n: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

describe('GroupCommit.pending', () => {
  it('counts items waiting and inside the commit under way, and nothing once they settle', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const queue = new GroupCommit<Item>(async (batch) => {
      await gate;
      for (const item of batch) item.resolve();
    }, 2);
    const settled: Promise<void>[] = [];
    const push = (n: number) =>
      settled.push(new Promise<void>((resolve, reject) => queue.push({ n, resolve, reject })));

    expect(queue.pending).toBe(0);
    for (const n of [1, 2, 3]) push(n);
    expect(queue.pending).toBe(3);
    // The first batch (two items) is committing; the third waits for the next one.
    await new Promise((r) => setImmediate(r));
    push(4);
    expect(queue.pending).toBe(4);
    release();
    await Promise.all(settled);
    expect(queue.pending).toBe(0);
  });
});
