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

/** OpenPGP v4 fingerprints, as gpg prints them (spaces allowed, any case): stored as 40 upper-case hex digits. */
export const keyFingerprints = z
    .array(
        z
            .string()
            .transform((s) => s.replace(/\s+/g, "").toUpperCase())
            .refine((s) => /^[0-9A-F]{40}$/.test(s), "expected an OpenPGP key fingerprint: 40 hex digits, as `gpg --show-keys --with-colons KEYFILE` prints on its fpr line"),
    )
    .min(1, "expected at least one key fingerprint");

export const sha256 = z.string().regex(/^[a-f0-9]{64}$/, "expected a sha256 hex digest (64 lowercase hex digits, as sha256sum prints it)");

/** A container image pinned by digest: `name[:tag]@sha256:<64 hex>` (a tag alone can be moved to other content). */
export const imageByDigest = z
    .string()
    .regex(
        /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?@sha256:[a-f0-9]{64}$/,
        "expected an image pinned by digest, name[:tag]@sha256:<64 hex> (`docker buildx imagetools inspect IMAGE:TAG` prints the digest)",
    );

/**
 * One config problem: the path under `aihpc:workstation` (or the namespace the
 * caller names) and the message. Each component owns its rules in
 * `components/.../problems.ts`; config/schema.ts reports them all at once.
 */
export type Problem = [path: (string | number)[], message: string];
