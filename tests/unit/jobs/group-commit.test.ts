import { describe, expect, it } from "vitest";
import { GroupCommit } from "~/services/jobs/group-commit.server";

describe("GroupCommit", () => {
  it("writes the items added in the same tick together and gives each caller its own result", async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      return items.map((item) => item * 10);
    });
    await expect(Promise.all([group.add(1), group.add(2), group.add(3)])).resolves.toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("collects the items that arrive while a flush runs into the next one", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<number, void>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return items.map(() => undefined);
      },
      { maxConcurrentFlushes: 1 },
    );
    const first = group.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.add(2), group.add(3)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it("rejects exactly the items of a failed flush", async () => {
    let calls = 0;
    const group = new GroupCommit<string, string>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error("database down");
        return items;
      },
      { maxConcurrentFlushes: 1, maxBatch: 2 },
    );
    const results = await Promise.allSettled([group.add("a"), group.add("b"), group.add("c")]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  });
});
