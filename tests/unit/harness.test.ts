import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { UnmockedCallError } from "../../tools/plan/recorder";
import { runComponent } from "../helpers/harness";

class Box extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:test:Box", name, {}, opts);
        const sa = new gcp.serviceaccount.Account(`${name}-sa`, { accountId: `${name}-sa`, project: "p-123456" }, { parent: this });
        new gcp.projects.IAMMember(`${name}-iam`, { project: "p-123456", role: "roles/logging.logWriter", member: sa.member }, { parent: this });
        this.registerOutputs({});
    }
}

describe("mock harness", () => {
    test("records parents, dependencies and computed outputs", async () => {
        const run = await runComponent(() => new Box("b"));
        const iam = run.named("b-iam");
        expect(iam.parent).toBe(run.named("b").urn);
        expect(iam.dependencies).toContain(run.named("b-sa").urn);
        expect(run.inputsOf("b-iam").member).toBe("serviceAccount:b-sa@p-123456.iam.gserviceaccount.com");
        expect(run.childrenOf("b")).toEqual(["b-sa", "b-iam"]);
    });

    test("fails on a resource name used twice, as the engine would", async () => {
        await expect(runComponent(() => [new Box("dup"), new Box("dup")])).rejects.toThrow(/duplicate resource URNs.*aihpc:test:Box::dup/);
    });

    test("the same name under different parents is fine", async () => {
        await expect(runComponent(() => [new Box("a"), new Box("b")])).resolves.toBeDefined();
    });

    test("fails on a provider function that has no mock", async () => {
        const run = runComponent(() => gcp.compute.getZones({ region: "europe-west4" }).then((z) => z.names));
        await expect(run).rejects.toThrow(UnmockedCallError);
        await expect(runComponent(() => gcp.compute.getZones({}))).rejects.toThrow(/'gcp:compute\/getZones:getZones' has no mock/);
    });
});

describe("stack traces during a run", () => {
    const saved = process.env.PULUMI_DEBUG_PROMISE_LEAKS;
    afterEach(() => {
        if (saved === undefined) delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
        else process.env.PULUMI_DEBUG_PROMISE_LEAKS = saved;
    });

    test("the SDK's per-promise stacks are off while the program runs, and the limit is back after", async () => {
        delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
        const before = Error.stackTraceLimit;
        let during: number | undefined;
        await runComponent(() => {
            during = Error.stackTraceLimit;
            return new Box("s");
        });
        expect(during).toBe(0);
        expect(Error.stackTraceLimit).toBe(before);
        expect(before).toBeGreaterThan(0);
    });

    test("PULUMI_DEBUG_PROMISE_LEAKS keeps them: its report prints them", async () => {
        process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
        let during: number | undefined;
        await runComponent(() => {
            during = Error.stackTraceLimit;
            return new Box("t");
        });
        expect(during).toBe(Error.stackTraceLimit);
        expect(during).toBeGreaterThan(0);
    });
});
