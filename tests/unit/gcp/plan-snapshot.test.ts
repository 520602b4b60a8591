import * as crypto from "crypto";
import { loadStackConfig } from "../../../config";
import { defineStack } from "../../../components/stack";
import { planStack, render } from "../../../tools/plan";

/** Long strings (the workstation's scripts) as length + digest: a change still shows, the snapshot stays readable. */
function digestLong(v: unknown): unknown {
    if (typeof v === "string" && v.length > 1200) return `<${v.length} chars, sha256 ${crypto.createHash("sha256").update(v).digest("hex").slice(0, 12)}>`;
    if (Array.isArray(v)) return v.map(digestLong);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, digestLong(x)]));
    return v;
}

/** The Google Cloud part: the `gcp` component's subtree (workstation steps have their own tests and change often). */
function googleCloudPart(doc: any): unknown {
    const inGcp = new Set<string>(["gcp"]);
    const resources = doc.resources.filter((r: any) => {
        if (r.name === "gcp" || (r.parent !== null && inGcp.has(r.parent))) {
            inGcp.add(r.name);
            return true;
        }
        return false;
    });
    return {
        project: doc.project,
        stack: doc.stack,
        counts: Object.fromEntries(Object.entries(doc.counts).filter(([t]) => /^(gcp|tls):/.test(t))),
        outputs: doc.outputs.gcp,
        duplicates: doc.duplicates,
        resources,
    };
}

// The offline plan of the shipped `gcp` stack, as `npm run plan -- --stack gcp
// --format json` prints it, limited to the Google Cloud subtree: any change to
// that graph (a resource, an input, protect/ignoreChanges, a dependency, an
// output) shows up here in review. Update deliberately with
// `npx jest --selectProjects unit --testPathPatterns tests/unit/gcp/plan-snapshot -u`.
test("offline plan of the gcp stack (JSON)", async () => {
    const plan = await planStack("gcp", { program: () => defineStack(loadStackConfig()) });
    expect(plan.duplicates).toEqual([]);
    expect(plan.counts["gcp:storage/bucket:Bucket"]).toBe(3);
    const part = googleCloudPart(JSON.parse(render(plan, "json"))) as { resources: unknown[] };
    expect(part.resources.length).toBeGreaterThan(90);
    expect(digestLong(part)).toMatchSnapshot();
});
