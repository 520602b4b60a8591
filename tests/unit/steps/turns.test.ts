// Building the graph in turns (components/steps/turns.ts): in a preview a
// turn's steps have registered when endTurn returns; in an update endTurn
// does not wait (registrations there return only once a step has run).
import * as pulumi from "@pulumi/pulumi";
import { hostStep, Transport } from "../../../components/steps/host-step";
import { beginTurns, endTurn } from "../../../components/steps/turns";
import { hostProcess } from "../../../components/host-process";
import { runUnderMocks } from "../../../tools/plan/recorder";
import { runProgram } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { factsHook } from "../workstation/facts";

const ssh: Transport = { kind: "ssh", connection: { host: "10.0.0.11", user: "root" }, sudo: false };

async function registeredAtTurnEnds(preview: boolean): Promise<string[][]> {
    const seen: string[][] = [];
    const registered: string[] = [];
    await runUnderMocks(
        async () => {
            beginTurns();
            for (const turn of [0, 1]) {
                for (let i = 0; i < 3; i++) hostStep(`t${turn}-s${i}`, ssh, { create: `bash step-${turn}-${i}.sh` }, {});
                await endTurn();
                seen.push([...registered]);
            }
            return {};
        },
        {
            preview,
            newResource: (args) => {
                if (args.name.startsWith("t")) registered.push(args.name);
                return undefined;
            },
        },
    );
    return seen;
}

describe("building in turns", () => {
    test("in a preview, endTurn returns once every step made in the turn has registered, and the next turn's only after", async () => {
        expect(await registeredAtTurnEnds(true)).toEqual([
            ["t0-s0", "t0-s1", "t0-s2"],
            ["t0-s0", "t0-s1", "t0-s2", "t1-s0", "t1-s1", "t1-s2"],
        ]);
    });

    test("in an update, endTurn does not wait for registrations", async () => {
        expect(await registeredAtTurnEnds(false)).toEqual([[], []]);
    });

    test("a step that never registers (its input failed) ends the turn anyway, and the run fails with its error", async () => {
        let after = false;
        const run = runUnderMocks(
            async () => {
                beginTurns();
                hostStep("ok", ssh, { create: "bash ok.sh" }, {});
                hostStep("bad", ssh, { create: pulumi.output(Promise.reject(new Error("the facts probe refused the host"))) }, {});
                await endTurn();
                after = true;
                return {};
            },
            { preview: true },
        );
        await expect(run).rejects.toThrow("the facts probe refused the host");
        for (let i = 0; i < 50 && !after; i++) await new Promise((r) => setTimeout(r, 20));
        expect(after).toBe(true);
    });

    test("a program abandoned while a turn waits leaves no listener to the next program", async () => {
        // The real process, where the turns listen (jest gives tests a copy of `process`).
        const listeners = () => hostProcess().listenerCount("unhandledRejection");
        let beforeTurn = -1;
        // A turn that never ends: its step waits on an input that never settles.
        const run = runUnderMocks(
            async () => {
                beginTurns();
                hostStep("stuck", ssh, { create: pulumi.output(new Promise<string>(() => undefined)) }, {});
                beforeTurn = listeners();
                await endTurn();
                return {};
            },
            { preview: true },
        );
        void run.catch(() => undefined);
        for (let i = 0; i < 50 && beforeTurn < 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(listeners()).toBe(beforeTurn + 1);
        beginTurns();
        expect(listeners()).toBe(beforeTurn);
    });

    test("the stack's preview in turns registers the same graph as its update in one pass", async () => {
        const preview = await runProgram(twoHosts());
        const update = await runProgram(twoHosts(), { preview: false, newResource: factsHook() });
        const shape = (r: typeof preview) => r.resources.map((x) => `${x.urn} <- ${[...x.dependencies].sort().join(",")}`).sort();
        expect(shape(preview)).toEqual(shape(update));
        expect(preview.resources.length).toBeGreaterThan(40);
    });
});
