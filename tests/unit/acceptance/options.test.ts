// The acceptance programs' option parsing (src/options.h, plain C++) compiled
// with g++ and run: every value is used as given or refused, never clamped
// or swapped for a default (hostbw once turned an explicit --repeats 20 into 10).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requireTool } from "../../helpers/tools";

const SRC = path.join(__dirname, "../../../components/workstation/acceptance/src");

describe("src/options.h", () => {
    let dir: string;
    let prog: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-options-"));
        fs.writeFileSync(
            `${dir}/main.cpp`,
            `#include "options.h"\nint main(int argc, char** argv) {\n  Options o = parse_options(argc, argv, "", atoi(getenv("DEFAULT_REPEATS")));\n` +
                `  printf("device=%d warmup=%d repeats=%d gib=%g size=%d\\n", o.device, o.warmup, o.repeats, o.gib, o.size);\n  return 0;\n}\n`,
        );
        prog = `${dir}/opts`;
        execFileSync(requireTool("g++"), ["-std=c++17", "-Wall", "-Werror", "-I", SRC, "-o", prog, `${dir}/main.cpp`]);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (args: string[], defaultRepeats = 20) => spawnSync(prog, args, { encoding: "utf8", env: { DEFAULT_REPEATS: String(defaultRepeats) } });

    test("the program's default repeats without --repeats; an explicit --repeats is what runs (hostbw: default 10, --repeats 20 is 20)", () => {
        expect(run([], 10).stdout).toBe("device=0 warmup=3 repeats=10 gib=0 size=0\n");
        expect(run(["--repeats", "20"], 10).stdout).toContain("repeats=20");
        expect(run(["--repeats", "10"], 20).stdout).toContain("repeats=10");
        expect(run(["--device", "1", "--warmup", "0", "--repeats", "1", "--gib", "0.25", "--size", "4096"]).stdout).toBe("device=1 warmup=0 repeats=1 gib=0.25 size=4096\n");
    });

    test.each([
        [["--repeats", "0"], /--repeats '0': expected a whole number from 1 to 1000000/],
        [["--repeats", "20x"], /--repeats '20x': expected a whole number/],
        [["--repeats", "9999999"], /--repeats '9999999': expected a whole number from 1 to 1000000/],
        [["--warmup", "-1"], /--warmup '-1': expected a whole number from 0/],
        [["--gib", "nan"], /--gib 'nan': expected a number from 0/],
        [["--gib", "1e400"], /--gib '1e400': expected a number/],
        [["--device", ""], /--device '': expected a whole number/],
        [["--repeats"], /--repeats needs a value/],
        [["--bogus"], /usage: /],
    ])("%j: usage error, exit 1, nothing clamped", (args, message) => {
        const r = run(args as string[]);
        expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: "" });
        expect(r.stderr).toMatch(message as RegExp);
    });

    test("every program parses with it; none changes an option after parsing; hostbw passes its default of 10", () => {
        for (const f of ["membw.cu", "hostbw.cu", "gemm.cu"]) {
            const src = fs.readFileSync(path.join(SRC, f), "utf8");
            expect(src).toMatch(/Options o = parse_options\(argc, argv, /);
            expect({ f, assigns: src.match(/\bo\.\w+\s*[-+*/]?=(?!=)/g) ?? [] }).toEqual({ f, assigns: [] });
        }
        expect(fs.readFileSync(path.join(SRC, "hostbw.cu"), "utf8")).toMatch(/parse_options\(argc, argv, "[^"]*(?:"[^"]*)*", 10\);/);
        expect(fs.readFileSync(path.join(SRC, "common.h"), "utf8")).toContain('#include "options.h"');
    });
});
