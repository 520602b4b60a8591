// The private key every `ssh` host is reached with (aihpc:sshPrivateKey), as
// users give it: the text of ~/.ssh/id_ed25519 or of a PEM file. sshpk reads
// it; a problem names what was given and what is expected, never a byte of it.
import * as crypto from "crypto";
import * as sshpk from "sshpk";

export interface SshPrivateKey {
    /** sshpk's name: ed25519, rsa, ecdsa. */
    type: string;
    /** The public half, `type base64`: what authorized_keys on the hosts must hold. */
    publicKey: string;
    /**
     * The key as the command provider gets it. Every command keeps its
     * connection, key included, in its inputs and outputs in Pulumi's state,
     * encrypted: an ed25519 key goes as PKCS#8 PEM (119 bytes, RFC 8410), not in
     * the OpenSSH format (about 400), which the provider's parser
     * (golang.org/x/crypto/ssh.ParsePrivateKey) reads just as well. Other types
     * go as given, trimmed.
     */
    pem: string;
}

const EXPECTED = "expected the text of an unencrypted SSH private key file: `pulumi config set --secret aihpc:sshPrivateKey < ~/.ssh/id_ed25519`";

/**
 * The PKCS#8 form of an ed25519 key, made by Node's OpenSSL from the key's seed
 * and checked against its public half; undefined when the two do not agree
 * (no error text of OpenSSL's reaches a message: it could quote the key).
 */
function ed25519Pkcs8(key: sshpk.PrivateKey): string | undefined {
    // @types/sshpk keys `part` by key type; sshpk itself by part name (k: seed, A: public key).
    const parts = key.part as unknown as Record<string, { data: Buffer } | undefined>;
    const k = parts.k?.data;
    const a = parts.A?.data;
    if (!k || !a || a.length !== 32 || (k.length !== 32 && k.length !== 64)) return undefined;
    try {
        // OpenSSH keeps seed || public; the seed is the first 32 bytes.
        const obj = crypto.createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: k.subarray(0, 32).toString("base64url"), x: a.toString("base64url") }, format: "jwk" });
        if (crypto.createPublicKey(obj).export({ format: "jwk" }).x !== a.toString("base64url")) return undefined;
        return obj.export({ type: "pkcs8", format: "pem" }).toString();
    } catch {
        return undefined;
    }
}

export function parseSshPrivateKey(text: string): { key: SshPrivateKey } | { problem: string } {
    const bad = (why: string) => ({ problem: `${why}: ${EXPECTED}` });
    if (typeof text !== "string" || text.trim() === "") return bad("is empty");
    const trimmed = text.trim();
    if (/^(ssh-|ecdsa-sha2-|sk-)\S+ [A-Za-z0-9+/=]+/.test(trimmed)) {
        return bad("holds a public key line (the .pub file), not the private key");
    }
    let key: sshpk.PrivateKey;
    try {
        key = sshpk.parsePrivateKey(`${trimmed}\n`, "auto");
    } catch (e) {
        if (e instanceof Error && e.name === "KeyEncryptedError") {
            return bad("is protected by a passphrase, which `pulumi up` has no way to type: set workstation.sshAuth: agent and remove this key (the agent asks for the passphrase once, `ssh-add`), or give a key without one, made for this stack (`ssh-keygen -t ed25519 -N '' -f ~/.ssh/aihpc`)");
        }
        return bad("is not a private key in a format SSH reads (OpenSSH or PEM)");
    }
    if (key.type === "dsa") return bad("is a DSA key, which Debian 12's OpenSSH refuses; use an ed25519 key");
    if (key.type === "rsa" && key.size < 2048) return bad(`is an RSA key of ${key.size} bits, too weak (2048 bits or more, or an ed25519 key)`);
    if (!["ed25519", "rsa", "ecdsa"].includes(key.type)) return bad(`is a ${key.type} key, which the command provider cannot use (ed25519, RSA or ECDSA)`);
    const publicKey = key.toPublic().toString("ssh").split(" ").slice(0, 2).join(" ");
    const pem = key.type === "ed25519" ? ed25519Pkcs8(key) : `${trimmed}\n`;
    if (pem === undefined) return bad("is an ed25519 key whose public half does not match its private one");
    return { key: { type: key.type, publicKey, pem } };
}
