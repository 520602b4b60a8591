import { z } from "zod";

export const hostname = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, "expected a short host name: lowercase letters, digits and '-', starting with a letter");

export const port = z
    .number({ error: "expected a TCP port number" })
    .int("expected a whole TCP port number")
    .min(1, "expected a TCP port from 1 to 65535")
    .max(65535, "expected a TCP port from 1 to 65535");

/** Every component has these two: switch it off, or keep what it installed on destroy. */
export const toggle = {
    enabled: z.boolean().default(true),
    /** On `pulumi destroy`, stop services but keep packages and data. */
    retain: z.boolean().default(false),
};
