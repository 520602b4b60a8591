import * as vm from "vm";

/**
 * The process whose events Node emits (the SDK's unhandled rejections among
 * them). The same object in a Pulumi program; under jest `process` is a
 * sandbox copy with listeners of its own.
 */
export function hostProcess(): NodeJS.Process {
    try {
        const real = vm.runInThisContext("process") as NodeJS.Process;
        return typeof real?.on === "function" ? real : process;
    } catch {
        return process;
    }
}
