import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/process.js";

interface Instruction {
  readonly stage: number;
  readonly keyword: string;
  readonly args: string;
}

/** Parses a Dockerfile the way the builder reads it: continuations joined, comments dropped, stages counted. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  const instructions: Instruction[] = [];
  let stage = -1;
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`not an instruction: ${line}`);
    const keyword = (match[1] as string).toUpperCase();
    if (keyword === "FROM") stage++;
    instructions.push({ stage, keyword, args: (match[2] as string).replace(/\s+/g, " ") });
  }
  return instructions;
}

describe("the Dockerfile", () => {
  const instructions = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const known = new Set([
    "ARG",
    "FROM",
    "RUN",
    "COPY",
    "ENV",
    "WORKDIR",
    "USER",
    "VOLUME",
    "EXPOSE",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "ENTRYPOINT",
    "CMD",
    "LABEL",
  ]);
  const last = Math.max(...instructions.map((i) => i.stage));
  const runtime = instructions.filter((i) => i.stage === last);

  it("parses into known instructions in two stages", () => {
    for (const instruction of instructions) expect(known).toContain(instruction.keyword);
    expect(last).toBe(1);
    expect(instructions.find((i) => i.keyword === "ARG")?.args).toMatch(/^NODE_IMAGE=node:\d+-\w+-slim$/);
  });

  it("runs as a non-root user", () => {
    const user = runtime.filter((i) => i.keyword === "USER").at(-1);
    expect(user?.args).toBeDefined();
    expect(["root", "0"]).not.toContain(user?.args.split(":")[0]);
  });

  it("ships production dependencies only: dev ones are pruned before the copy", () => {
    const build = instructions.filter((i) => i.stage === 0);
    expect(build.some((i) => i.keyword === "RUN" && /npm prune --omit=dev/.test(i.args))).toBe(true);
    const copies = runtime.filter((i) => i.keyword === "COPY");
    expect(copies.some((i) => i.args.includes("/src/node_modules"))).toBe(true);
    expect(runtime.some((i) => i.keyword === "RUN" && /npm (ci|install)/.test(i.args))).toBe(false);
    expect(copies.some((i) => /\b(src|test|bench)\b \.\/?/.test(i.args) && !i.args.includes("--from"))).toBe(
      false,
    );
  });

  it("stops on SIGTERM, checks /healthz, and declares its volumes and ports", () => {
    const args = (keyword: string) => runtime.find((i) => i.keyword === keyword)?.args ?? "";
    expect(args("STOPSIGNAL")).toBe("SIGTERM");
    expect(args("HEALTHCHECK")).toContain("/healthz");
    expect(args("VOLUME")).toContain("/var/lib/smartcam-bridge");
    expect(args("VOLUME")).toContain("/etc/smartcam-bridge");
    expect(args("EXPOSE")).toContain("9180");
  });
});
