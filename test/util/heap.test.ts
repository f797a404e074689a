import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { keepYoungGenerationSmall } from "../../src/util/heap.js";

const HEAP = fileURLToPath(new URL("../../src/util/heap.js", import.meta.url));

/**
 * The young generation's size, in bytes, after a churn of objects that each outlive a few
 * scavenges (as a connection's do), in a fresh node run with `args`; `tune` calls the function.
 */
function youngAfterChurn(tune: boolean, args: string[] = []): number {
  const script = `
    import v8 from "node:v8";
    import { keepYoungGenerationSmall } from ${JSON.stringify(HEAP)};
    if (${tune}) keepYoungGenerationSmall();
    const live = new Array(20000);
    for (let i = 0; i < 400000; i++) live[i % live.length] = { i, pair: [i, i + 1], name: "c" + i };
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
    process.stdout.write(String(s.physical_space_size));`;
  const env = { ...process.env, NODE_OPTIONS: "" };
  // V8 sizes the young generation from the machine's memory: set the heap as on a 2 GiB machine or
  // larger, where V8 alone grows it to 32 MiB.
  const node = ["--max-heap-size=2048", ...args, "--input-type=module", "-e", script];
  return Number(execFileSync(process.execPath, node, { env }));
}

test("the young generation stays at its initial size under churn, where V8 alone grows it", () => {
  const MiB = 1024 * 1024;
  const alone = youngAfterChurn(false);
  const kept = youngAfterChurn(true);
  assert.ok(alone >= 8 * MiB, `V8 alone: ${alone} bytes (the churn no longer grows the space)`);
  assert.ok(kept <= 4 * MiB, `kept small: ${kept} bytes`);
  // The user's own sizing is left alone.
  assert.ok(youngAfterChurn(true, ["--max-semi-space-size=16"]) >= 8 * MiB);
});

test("a node command line or NODE_OPTIONS that sizes the young generation wins", () => {
  // The command line takes every sizing flag, with one dash or two; NODE_OPTIONS only the maximum.
  for (const flag of ["--max-semi-space-size=64", "-min_semi_space_size=4", "--semi-space-growth-factor=2"])
    assert.equal(keepYoungGenerationSmall([flag], ""), false, flag);
  for (const options of ["--inspect --max_semi_space_size=4", '"--max-semi-space-size=1"'])
    assert.equal(keepYoungGenerationSmall([], options), false, options);
});
