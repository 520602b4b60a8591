// Where `npm run versions` gets its answers: the registries themselves (live),
// or a folder of recorded answers (tests, and a reproducible report). Either
// way an answer is text or "unreachable" with the reason: a registry that does
// not answer is reported, never guessed.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

export type Answer = { ok: true; text: string } | { ok: false; why: string };

export interface Source {
    /** GET the URL (or POST JSON when `post` is given); `.xz`/`.gz` bodies come back decompressed. */
    get(url: string, post?: unknown): Promise<Answer>;
}

function decompress(url: string, body: Buffer): string {
    if (url.endsWith(".xz")) return execFileSync("xz", ["-dc"], { input: body, maxBuffer: 512 * 1024 * 1024 }).toString("utf8");
    if (url.endsWith(".gz")) return zlib.gunzipSync(body).toString("utf8");
    return body.toString("utf8");
}

/** The registries, with a timeout per request (a registry that hangs is unreachable, not a stuck CI job). */
export function liveSource(timeoutMs = 30_000): Source {
    return {
        async get(url, post) {
            try {
                const res = await fetch(url, {
                    method: post === undefined ? "GET" : "POST",
                    headers: {
                        "user-agent": "aihpc-versions-report",
                        // npm: the abbreviated document (versions and dist-tags) is enough and much smaller.
                        ...(url.startsWith("https://registry.npmjs.org/") && post === undefined ? { accept: "application/vnd.npm.install-v1+json" } : {}),
                        ...(post === undefined ? {} : { "content-type": "application/json" }),
                    },
                    body: post === undefined ? undefined : JSON.stringify(post),
                    signal: AbortSignal.timeout(timeoutMs),
                });
                if (!res.ok) return { ok: false, why: `HTTP ${res.status}` };
                return { ok: true, text: decompress(url, Buffer.from(await res.arrayBuffer())) };
            } catch (err) {
                const e = err as Error & { cause?: { code?: string; message?: string } };
                return { ok: false, why: e.cause?.code ?? e.cause?.message ?? e.message };
            }
        },
    };
}

/**
 * Recorded answers: DIR/answers.json maps `URL` (or `POST URL`) to a file in DIR holding the (decompressed) body,
 * or to `null` for a registry that did not answer. A URL not listed is unreachable ("not recorded").
 */
export function recordedSource(dir: string): Source {
    const index = JSON.parse(fs.readFileSync(path.join(dir, "answers.json"), "utf8")) as Record<string, string | null>;
    return {
        async get(url, post) {
            const key = post === undefined ? url : `POST ${url}`;
            if (!(key in index)) return { ok: false, why: "not recorded" };
            const file = index[key];
            if (file === null) return { ok: false, why: "recorded as unreachable" };
            return { ok: true, text: fs.readFileSync(path.join(dir, file), "utf8") };
        },
    };
}

/** Run FN over ITEMS, at most LIMIT at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return out;
}
