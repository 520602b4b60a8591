// The Pulumi program: validate the stack's config, then compose the graph.
// Invalid config stops here with one message, before any resource exists.
import { loadStackConfig } from "./config";
import { defineStack } from "./components/stack";
import { leanStackTraces } from "./components/stack-traces";

leanStackTraces();

export = defineStack(loadStackConfig());
