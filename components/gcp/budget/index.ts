import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";
import { applyIam } from "../iam";

export interface BudgetArgs {
    ctx: GcpContext;
    config: GcpConfig["budget"];
}

/** Cloud Billing publishes budget notifications as this account. */
export const BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com";

/**
 * A monthly budget on the project with threshold rules on actual spend (plus a
 * forecast rule at 100%): billing admins get e-mail at each threshold, and with
 * `pubsubNotifications` every update also goes to a Pub/Sub topic (to wire up
 * automation such as stopping the Workbench instance). A budget alerts; it
 * does not cap spending.
 */
export class Budget extends pulumi.ComponentResource {
    public readonly budget: gcp.billing.Budget;
    public readonly topic?: gcp.pubsub.Topic;

    constructor(name: string, args: BudgetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Budget", name, {}, opts);
        const { ctx, config: c } = args;
        if (c.pubsubNotifications) {
            this.topic = new gcp.pubsub.Topic(
                `${name}-topic`,
                { project: ctx.project, name: ctx.naming.name("budget"), labels: ctx.labels, messageRetentionDuration: "604800s" },
                { parent: this },
            );
            const topic = this.topic;
            applyIam(
                `${name}-topic`,
                { iam: { "roles/pubsub.publisher": [BUDGET_PUBLISHER] } },
                {
                    binding: (n, role, members, o) => new gcp.pubsub.TopicIAMBinding(n, { project: ctx.project, topic: topic.name, role, members }, o),
                    member: (n, role, member, condition, o) => new gcp.pubsub.TopicIAMMember(n, { project: ctx.project, topic: topic.name, role, member, condition }, o),
                },
                this,
                { allowUserMembers: ctx.allowUserMembers },
            );
        }
        const project = gcp.organizations.getProjectOutput({ projectId: ctx.project }, { parent: this });
        const units = Math.floor(c.amount);
        const nanos = Math.round((c.amount - units) * 1e9);
        const thresholds = [...c.thresholds].sort((a, b) => a - b);
        this.budget = new gcp.billing.Budget(
            `${name}-budget`,
            {
                billingAccount: c.billingAccount,
                displayName: ctx.naming.name("budget"),
                budgetFilter: {
                    projects: [pulumi.interpolate`projects/${project.number}`],
                    calendarPeriod: "MONTH",
                    creditTypesTreatment: "INCLUDE_ALL_CREDITS",
                },
                amount: { specifiedAmount: { currencyCode: c.currency, units: String(units), nanos: nanos || undefined } },
                thresholdRules: [
                    ...thresholds.map((t) => ({ thresholdPercent: t, spendBasis: "CURRENT_SPEND" })),
                    { thresholdPercent: 1.0, spendBasis: "FORECASTED_SPEND" },
                ],
                allUpdatesRule: this.topic ? { pubsubTopic: this.topic.id, schemaVersion: "1.0" } : undefined,
            },
            { parent: this },
        );
        this.registerOutputs({ budget: this.budget.name, topic: this.topic?.id });
    }
}
