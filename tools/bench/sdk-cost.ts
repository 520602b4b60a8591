// The Pulumi SDK's own cost per command resource under the plan's mocks, with
// none of this project's code: N `remote.Command`s, each waiting on the one
// before (as steps on a host do), with a small command and a secret
// connection. tools/bench/sdk-cost.sh runs it at several N and fits the
// memory per resource. Usage: N=2000 node -r @swc-node/register tools/bench/sdk-cost.ts
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { runUnderMocks } from "../plan/recorder";

const n = Number(process.env.N ?? 1000);
runUnderMocks(() => {
    const privateKey = pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----");
    let before: pulumi.Resource | undefined;
    for (let i = 0; i < n; i++) {
        const connection = { host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, user: "root", privateKey };
        before = new command.remote.Command(`c${i}`, { connection, create: `STEP='${i}' bash /var/lib/aihpc/bundle/lib.sh step.sh`, delete: "bash step.sh" }, { dependsOn: before ? [before] : [] });
    }
}).then((r) => console.log(`${r.resources.length} resources`));
