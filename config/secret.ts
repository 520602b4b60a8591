/**
 * A config value that Pulumi holds as a secret. `value` is undefined when the
 * value could not be decrypted (the offline plan never decrypts `secure:`
 * values); a secret is never printed, so nothing downstream needs its text.
 */
export class SecretValue {
    constructor(public readonly value: string | undefined) {}
    toString(): string {
        return "[secret]";
    }
    toJSON(): string {
        return "[secret]";
    }
}

/** Placeholder handed to resources when the secret was not decrypted. */
export const UNDECRYPTED_SECRET = "<secret not decrypted by the offline plan>";
