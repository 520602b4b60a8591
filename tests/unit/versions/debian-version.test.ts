// dpkg's version order in TypeScript (config/debian-version.ts), checked against
// `dpkg --compare-versions` itself on the versions this project meets and on
// the corner cases of Debian Policy 5.6.12 (epochs, `~`, letters, digit runs).
import { execFileSync } from "child_process";
import { compareDebianVersions, newestDebian, pinMatches } from "../../../config/debian-version";

const VERSIONS = [
    "535.261.03-1",
    "535.309.01-0+deb12u1",
    "535.261.03-1+deb12u1",
    "535.216.01-1~deb12u1",
    "470.256.02-1~deb12u1",
    "20.10.24+dfsg1-1+deb12u1+b6",
    "20.10.24+dfsg1-1+deb12u1",
    "20.10.24+dfsg1-1",
    "22.05.8-4+deb12u3",
    "22.05.8-4+deb12u2",
    "22.05.8-4",
    "1:1.0-1",
    "1.0-1",
    "1.0~rc1-1",
    "1.0a-1",
    "1.0-1a",
    "1.0.0-1",
    "1.00-1",
    "1.0",
    "1.0-0",
    "2.9.1",
    "10.0",
    "9.99",
    "1.0+b1",
    "1.0~~",
    "1.0~",
];

function dpkg(a: string, op: "lt" | "eq" | "gt", b: string): boolean {
    try {
        execFileSync("dpkg", ["--compare-versions", a, op, b], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

describe("Debian version order", () => {
    test("agrees with dpkg --compare-versions on every pair", () => {
        const wrong: string[] = [];
        for (const a of VERSIONS) {
            for (const b of VERSIONS) {
                const ours = Math.sign(compareDebianVersions(a, b));
                const theirs = dpkg(a, "lt", b) ? -1 : dpkg(a, "gt", b) ? 1 : 0;
                if (ours !== theirs) wrong.push(`${a} vs ${b}: ours ${ours}, dpkg ${theirs}`);
            }
        }
        expect(wrong).toEqual([]);
    });

    test("the newest of a list; the security build is newer than the point release's", () => {
        expect(newestDebian(["535.261.03-1", "535.309.01-0+deb12u1", "535.216.01-1~deb12u1"])).toBe("535.309.01-0+deb12u1");
        expect(newestDebian([])).toBeUndefined();
    });

    test("apt pin globs", () => {
        expect(pinMatches("535.*", "535.309.01-0+deb12u1")).toBe(true);
        expect(pinMatches("535.*", "5350.1-1")).toBe(false);
        expect(pinMatches("535.261.03-*", "535.309.01-0+deb12u1")).toBe(false);
        expect(pinMatches("535.261.03-*", "535.261.03-1")).toBe(true);
        expect(pinMatches("20.10.24+*", "20.10.24+dfsg1-1+deb12u1+b6")).toBe(true);
        expect(pinMatches("20.10.*", "20.10.24+dfsg1-1")).toBe(true);
        expect(pinMatches("1.0?1", "1.0+1")).toBe(true);
    });
});
