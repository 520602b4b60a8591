import { Plan } from "../plan";
import { renderJson } from "./json";
import { renderMarkdown } from "./markdown";
import { renderMermaid } from "./mermaid";
import { renderText } from "./text";

export const formats = { text: renderText, markdown: renderMarkdown, json: renderJson, mermaid: renderMermaid } as const;
export type Format = keyof typeof formats;

export function render(plan: Plan, format: Format): string {
    return formats[format](plan);
}
