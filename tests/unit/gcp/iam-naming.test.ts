import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { applyIam, normalizeIam } from "../../../components/gcp/iam";
import { Naming, sanitize, stackLabels } from "../../../components/gcp/naming";
import { runComponent } from "../../helpers/harness";

const sa = "serviceAccount:a@p.iam.gserviceaccount.com";

describe("the one IAM shape", () => {
    test("authoritative roles and additive grants merge into one list; empty roles create nothing", () => {
        const grants = normalizeIam({
            iam: { "roles/storage.objectViewer": [sa], "roles/storage.objectUser": [] },
            iamBindingsAdditive: { reader: { role: "roles/artifactregistry.reader", member: "group:ml@example.com" } },
        });
        expect(grants).toEqual([
            { key: "iam-storage-objectviewer", role: "roles/storage.objectViewer", members: [sa], authoritative: true },
            { key: "iam-reader", role: "roles/artifactregistry.reader", members: ["group:ml@example.com"], authoritative: false, condition: undefined },
        ]);
    });

    test.each([
        [{ iam: { "roles/editor": [sa] } }, "roles/editor is a basic role"],
        [{ iam: { "roles/owner": [sa] } }, "roles/owner is a basic role"],
        [{ iam: { "roles/storage.objectViewer": ["allUsers"] } }, "'allUsers' would make the resource public"],
        [{ iamBindingsAdditive: { x: { role: "roles/storage.objectViewer", member: "allAuthenticatedUsers" } } }, "'allAuthenticatedUsers' would make the resource public"],
        [{ iam: { "roles/storage.objectViewer": ["user:alice@example.com"] } }, "'user:alice@example.com' is a personal account"],
        [{ iam: { "roles/storage.objectViewer": ["alice@example.com"] } }, "is not an IAM member"],
        [{ iam: { "storage.objectViewer": [sa] } }, "'storage.objectViewer' is not an IAM role name"],
        [
            { iam: { "roles/storage.objectViewer": [sa] }, iamBindingsAdditive: { x: { role: "roles/storage.objectViewer", member: sa } } },
            "roles/storage.objectViewer is authoritative in iam, so the additive grant 'x' would be removed",
        ],
    ])("rejects %j", (args, message) => {
        expect(() => normalizeIam(args)).toThrow(message);
    });

    test("personal accounts pass when allowed; project-level IAM is additive only", () => {
        expect(normalizeIam({ iam: { "roles/storage.objectViewer": ["user:alice@example.com"] } }, { allowUserMembers: true })).toHaveLength(1);
        expect(() => normalizeIam({ iam: { "roles/aiplatform.user": [sa] } }, { additiveOnly: true })).toThrow("authoritative iam (roles/aiplatform.user) is not allowed here");
    });

    test("applyIam creates one binding per authoritative role and one member per additive grant", async () => {
        const run = await runComponent(() => {
            const parent = new pulumi.ComponentResource("test:index:Parent", "p");
            applyIam(
                "b",
                {
                    iam: { "roles/storage.objectViewer": [sa, "group:ml@example.com"] },
                    iamBindingsAdditive: { ci: { role: "roles/storage.objectUser", member: sa, condition: { title: "t", expression: "true" } } },
                },
                {
                    binding: (n, role, members, o) => new gcp.storage.BucketIAMBinding(n, { bucket: "bkt", role, members }, o),
                    member: (n, role, member, condition, o) => new gcp.storage.BucketIAMMember(n, { bucket: "bkt", role, member, condition }, o),
                },
                parent,
            );
        });
        expect(run.inputsOf("b-iam-storage-objectviewer")).toEqual({ bucket: "bkt", role: "roles/storage.objectViewer", members: [sa, "group:ml@example.com"] });
        expect(run.named("b-iam-storage-objectviewer").type).toBe("gcp:storage/bucketIAMBinding:BucketIAMBinding");
        expect(run.inputsOf("b-iam-ci")).toEqual({ bucket: "bkt", role: "roles/storage.objectUser", member: sa, condition: { title: "t", expression: "true" } });
    });
});

describe("naming", () => {
    const n = new Naming("aihpc", "Dev.Team_1", "my-project");

    test("one scheme: <prefix>-<stack>-<role>, the stack sanitized; global names carry the project", () => {
        expect(n.stack).toBe("dev-team-1");
        expect(n.name("vpc")).toBe("aihpc-dev-team-1-vpc");
        expect(n.global("datasets")).toBe("aihpc-dev-team-1-datasets-my-project");
        expect(n.underscored("metadata")).toBe("aihpc_dev_team_1_metadata");
        expect(n.numericId("endpoint")).toMatch(/^[1-9]\d{9}$/);
        expect(n.numericId("endpoint")).toBe(new Naming("aihpc", "dev-team-1", "other").numericId("endpoint"));
        expect(sanitize("--A__b--")).toBe("a-b");
    });

    test("limits are checked with a message that says what to shorten", () => {
        const long = new Naming("aihpcaihpc", "production-eu", "p");
        expect(() => long.accountId("ci-preview")).toThrow("service account id 'aihpcaihpc-production-eu-ci-preview' is 35 characters, over the limit of 30: use a shorter gcp.prefix or stack name");
        expect(() => new Naming("gcp", "dev", "p").poolId("pool")).toThrow("starts with the reserved 'gcp-'");
    });

    test("labels: config labels plus managed-by, stack and app", () => {
        expect(stackLabels({ team: "ml" }, n)).toEqual({ team: "ml", "managed-by": "pulumi", stack: "dev-team-1", app: "aihpc" });
    });
});
