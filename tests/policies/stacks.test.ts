import * as path from "path";
import { loadStackConfig } from "../../config";
import { defineStack } from "../../components/stack";
import { toPolicy } from "../../policies/pack";
import { rules } from "../../policies/rules";
import { planStack, render } from "../../tools/plan";
import { runStackFile } from "../helpers/harness";
import { toRuleResources } from "../../tools/plan/plan";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const program = () => defineStack(loadStackConfig());
const FIXTURES = path.join(__dirname, "..", "fixtures", "stacks");

describe("policies on whole stacks", () => {
    test.each(["local", "gcp"])("the shipped %s stack has no violation", async (stack) => {
        const plan = await planStack(stack, { program });
        expect(plan.violations).toEqual([]);
    });

    test("a stack with every option on has no violation", async () => {
        const plan = await planStack("full", { root: FIXTURES, program });
        expect(plan.resources.filter((r) => r.type === "gcp:workbench/instance:Instance")).toHaveLength(1);
        expect(plan.violations).toEqual([]);
    });

    test("the broken fixture trips exactly the rules it should", async () => {
        const plan = await planStack("broken", { root: FIXTURES, program });
        const found = plan.violations.map((v) => `${v.rule} ${v.resource}`).sort();
        expect(found).toEqual([
            "bucket-data-protected gcp-storage-datasets-bucket",
            "debian-exact-pin-security ws-nvidia-ws1-apt-pin",
            "workbench-accelerator-allowlist gcp-workbench-instance",
            "workbench-idle-shutdown gcp-workbench-instance",
            "workbench-root-and-downloads gcp-workbench-instance",
        ]);
        expect(plan.violations.filter((v) => v.enforcement !== "mandatory").map((v) => [v.rule, v.enforcement])).toEqual([["debian-exact-pin-security", "advisory"]]);
        expect(plan.violations.find((v) => v.rule === "debian-exact-pin-security")?.message).toMatch(
            /^exact pin nvidia-kernel-dkms, nvidia-driver, nvidia-smi=535\.261\.03-\* holds back the security build 535\.309\.01-0\+deb12u1 \(bookworm-security/,
        );
        const md = render(plan, "markdown");
        expect(md).toContain("Policies: 5 violations (4 mandatory, 1 advisory)");
        expect(md).toContain("| mandatory | medium | `workbench-accelerator-allowlist` | `gcp-workbench-instance` |");
    });
});

describe("CrossGuard adapter", () => {
    // The pack's policies, driven as the policy server would drive them.
    test("reports the same findings as the plan, with per-policy config", async () => {
        const run = await runStackFile("broken", { root: FIXTURES });
        const resources = toRuleResources(run.resources);
        const found: string[] = [];
        for (const rule of rules) {
            const policy = toPolicy(rule);
            const getConfig = <T extends object>() => ({}) as T;
            if ("validateResource" in policy && policy.validateResource) {
                const validate = policy.validateResource as NonNullable<ResourceValidationPolicy["validateResource"]>;
                for (const r of resources) {
                    const args: any = { type: r.type, name: r.name, urn: r.urn, props: r.props, opts: { protect: r.protect }, getConfig };
                    await (validate as any)(args, (m: string) => found.push(`${rule.name} ${r.name}: ${m}`));
                }
            } else {
                const validate = (policy as StackValidationPolicy).validateStack;
                const args: any = { resources: resources.map((r) => ({ ...r, opts: { protect: r.protect } })), getConfig };
                await validate(args, (m: string) => found.push(`${rule.name}: ${m}`));
            }
        }
        // retainOnDelete is invisible to CrossGuard: the unprotected dataset bucket is still caught by protect.
        expect(found.map((f) => f.split(":")[0]).sort()).toEqual([
            "bucket-data-protected gcp-storage-datasets-bucket",
            "debian-exact-pin-security ws-nvidia-ws1-apt-pin",
            "workbench-accelerator-allowlist gcp-workbench-instance",
            "workbench-idle-shutdown gcp-workbench-instance",
            "workbench-root-and-downloads gcp-workbench-instance",
        ]);
    });
});
