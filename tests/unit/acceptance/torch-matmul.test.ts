// torch_matmul.py times as the CUDA programs do (common.h time_events): all
// repeats queued between their own events, one synchronisation at the end,
// so PyTorch's launch gap between calls is not timed. Run against a stand-in
// torch (fixtures/fake-torch) that logs the calls in order.
import { spawnSync } from "child_process";
import * as path from "path";

const SCRIPT = path.join(__dirname, "../../../components/workstation/acceptance/scripts/torch_matmul.py");
const FAKE = path.join(__dirname, "fixtures/fake-torch");

test("warm-up, one sync; then every repeat queued (record, matmul, record) and one sync; no per-repeat sync", () => {
    const r = spawnSync("python3", [SCRIPT, "--warmup", "2", "--repeats", "4", "--size", "8"], {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: FAKE },
    });
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.status).toBe(0);
    const calls = r.stderr.trim().split("\n");
    const timed = Array.from({ length: 4 }, () => ["record", "matmul", "record"]).flat();
    expect(calls).toEqual(["matmul", "matmul", "synchronize", ...timed, "synchronize"]);
    const m = JSON.parse(r.stdout);
    expect(m).toMatchObject({ type: "measurement", name: "torch_bf16", repeats: 4, median_ms: 1, verified: true });
});
