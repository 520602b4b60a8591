// For fresh keys of each type: the key as aihpc hands it to the command
// provider (config/ssh-private-key.ts) read by the provider's own Go parser
// (main.go), whose public key must be the one ssh-keygen reads from the key
// the user gave. Run through check.sh; needs Go 1.25 or newer.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSshPrivateKey } from "../../config/ssh-private-key";
import { freshPrivateKey } from "../../tests/helpers/ssh-keys";

const [bin] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-provider-key-"));
let failed = 0;
try {
    for (const type of ["ed25519", "rsa", "ec"] as const) {
        const given = freshPrivateKey(type);
        const file = path.join(dir, type);
        fs.writeFileSync(file, given, { mode: 0o600 });
        const openssh = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim().split(" ").slice(0, 2).join(" ");
        const r = parseSshPrivateKey(given);
        if ("problem" in r) throw new Error(r.problem);
        const provider = execFileSync(bin, { input: r.key.pem, encoding: "utf8" }).trim();
        const ok = provider === openssh;
        if (!ok) failed++;
        console.log(`${ok ? "ok  " : "FAIL"} ${type}: given ${given.length} bytes, to the provider ${r.key.pem.length} bytes (${r.key.pem.split("\n")[0]}), its public key ${ok ? "is" : "is NOT"} ssh-keygen's`);
    }
} finally {
    fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
