import { Naming } from "./naming";

/** What every gcp component shares: where it goes, how it is named and labelled. */
export interface GcpContext {
    project: string;
    region: string;
    /** Zone of zonal resources (the Workbench instance). */
    zone: string;
    naming: Naming;
    /** Config labels merged with `managed-by`, `stack` and `app`. */
    labels: Record<string, string>;
    allowUserMembers: boolean;
}
