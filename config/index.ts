export { loadStackConfig, parseStackConfig, ConfigError, formatProblems, NAMESPACE } from "./load";
export type { ConfigProblem } from "./load";
export { stackConfigSchema } from "./schema";
export type { StackConfig } from "./schema";
export type { WorkstationConfig, HostConfig, PartitionConfig } from "./workstation";
export type { GcpConfig } from "./gcp";
export { SecretValue, UNDECRYPTED_SECRET } from "./secret";
export { versions } from "./versions";
