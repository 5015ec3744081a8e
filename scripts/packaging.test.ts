// Checks the container packaging against the product itself: apps/server/Dockerfile must install,
// build and start the way package.json does, carry every workspace manifest into `npm ci`, and end
// in a non-root runtime stage with a health check; docker-compose.yml must be a valid Compose file
// (Debian's docker-compose and the Compose Specification schema both say so) that wires the server
// to its PostgreSQL.
//
// The Compose Specification JSON schema is the one Debian's `docker-compose` package (1.29) ships and
// validates with: /usr/lib/python3/dist-packages/compose/config/compose_spec.json. Validating with
// ajv as well catches what a second validator sees (unknown keys, wrong types, formats) with a readable
// path, and keeps the schema and the binary from the same, pinned source.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const ROOT = path.resolve(import.meta.dirname, "..");
const DOCKERFILE = "apps/server/Dockerfile";
const COMPOSE_FILE = "docker-compose.yml";
const COMPOSE_SPEC_SCHEMA = "/usr/lib/python3/dist-packages/compose/config/compose_spec.json";
const BASE_IMAGE = "node:20-bookworm-slim";

type Json = unknown;
type Dict = Record<string, Json>;
const isDict = (v: Json): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);
const dict = (v: Json, what: string): Dict => {
  if (!isDict(v)) throw new Error(`${what} must be a mapping`);
  return v;
};
/** A scalar as Compose would write it; anything else is an error in the file. */
const scalar = (v: Json): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "";
  throw new Error(`expected a scalar, got ${JSON.stringify(v)}`);
};
const readText = (rel: string) => readFileSync(path.join(ROOT, rel), "utf8");
const readJson = (rel: string) => JSON.parse(readText(rel)) as Json;

// ---------------------------------------------------------------------------------------------
// A small Dockerfile parser: instructions with their flags, grouped into stages.

interface Instruction {
  keyword: string;
  /** Leading --name=value flags (FROM, COPY, ADD, RUN, HEALTHCHECK). */
  flags: Record<string, string>;
  /** The arguments after the flags, continuation lines joined. */
  args: string;
  line: number;
}

interface Stage {
  name: string;
  /** Image or earlier stage this one starts from. */
  base: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let joined = first;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, " ");
      i++;
      if (/^\s*#/.test(lines[i]!)) {
        joined += "\\";
        continue;
      }
      joined += lines[i]!;
    }
    const match = /^\s*(\S+)\s*(.*)$/s.exec(joined)!;
    let rest = match[2]!.trim();
    const flags: Record<string, string> = {};
    let flag: RegExpExecArray | null;
    while ((flag = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest))) {
      flags[flag[1]!] = flag[2] ?? "true";
      rest = rest.slice(flag[0].length);
    }
    instructions.push({ keyword: match[1]!.toUpperCase(), flags, args: rest.trim(), line: start });
  }
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [base, as, name] = instruction.args.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === "AS" && name ? name : String(stages.length),
        base: base!,
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    } else if (instruction.keyword !== "ARG") {
      throw new Error(`${DOCKERFILE}:${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return stages;
}

/** JSON (exec) form when it parses as an array of strings, else undefined. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(args) as Json;
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The simple commands of a shell-form RUN: split on &&, ||, ; and |, each as words. */
function shellCommands(args: string): string[][] {
  const exec = execForm(args);
  if (exec) return [exec];
  return args
    .split(/&&|\|\||;|\|/)
    .map((part) => part.trim().split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0);
}

const startsWithWords = (words: string[], prefix: string[]) => prefix.every((w, i) => words[i] === w);

/** `KEY=value KEY2="value 2"` (or the legacy `KEY value`) into a record. */
function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [key, ...value] = args.split(/\s+/);
    out[key!] = value.join(" ");
    return out;
  }
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g)) {
    out[m[1]!] = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : (m[4] ?? m[5] ?? "");
  }
  return out;
}

/** A stage's instructions with those of the stages it is built FROM, oldest first. */
function lineage(stages: Stage[], stage: Stage): Instruction[] {
  const parent = stages.find((s) => s.name === stage.base && stages.indexOf(s) < stages.indexOf(stage));
  return [...(parent ? lineage(stages, parent) : []), ...stage.instructions];
}

interface CopyMapping {
  /** Path inside the build context, or inside the source stage for --from. */
  source: string;
  /** Absolute path in the image. */
  target: string;
  isDirectory: boolean;
  from?: string;
}

/** What each COPY puts where, following WORKDIR; directory sources copy their contents. */
function copyMappings(instructions: Instruction[]): CopyMapping[] {
  let workdir = "/";
  const out: CopyMapping[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "WORKDIR") workdir = path.posix.resolve(workdir, instruction.args);
    if (instruction.keyword !== "COPY" && instruction.keyword !== "ADD") continue;
    const words = execForm(instruction.args) ?? instruction.args.split(/\s+/);
    const sources = words.slice(0, -1);
    const dest = words.at(-1)!;
    const into = dest.endsWith("/") || dest === "." || sources.length > 1;
    for (const raw of sources) {
      const from = instruction.flags.from;
      // A --from source is absolute in that stage (our stages share WORKDIR /app); compare it as
      // a repository-relative path. Whether it is a directory is read from the repository.
      const source = from ? path.posix.relative("/app", raw) : path.posix.normalize(raw).replace(/\/$/, "");
      const onDisk = path.join(ROOT, source);
      const isDirectory = existsSync(onDisk) ? statSync(onDisk).isDirectory() : !path.posix.extname(source);
      const base = path.posix.resolve(workdir, dest);
      const target = into && !isDirectory ? path.posix.join(base, path.posix.basename(source)) : base;
      out.push({ source, target, isDirectory, ...(from ? { from } : {}) });
    }
  }
  return out;
}

/** Does some mapping put the repository file `rel` at /app/`rel`? */
function copiedInPlace(mappings: CopyMapping[], rel: string): boolean {
  return mappings.some((m) => {
    if (m.source === rel) return m.target === path.posix.join("/app", rel);
    if (m.isDirectory && (m.source === "." || rel.startsWith(m.source + "/"))) {
      return path.posix.join(m.target, path.posix.relative(m.source, rel)) === path.posix.join("/app", rel);
    }
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// The repository as npm sees it.

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports?: Record<string, string> | string;
}

const rootManifest = readJson("package.json") as Manifest;

/** Repository-relative directories of the workspaces (`dir/*` and plain patterns). */
function workspaceDirs(): string[] {
  const dirs: string[] = [];
  for (const pattern of rootManifest.workspaces ?? []) {
    if (pattern.endsWith("/*") && !pattern.slice(0, -2).includes("*")) {
      const parent = pattern.slice(0, -2);
      if (!existsSync(path.join(ROOT, parent))) continue;
      for (const entry of readdirSync(path.join(ROOT, parent), { withFileTypes: true })) {
        if (entry.isDirectory() && existsSync(path.join(ROOT, parent, entry.name, "package.json"))) {
          dirs.push(`${parent}/${entry.name}`);
        }
      }
    } else if (!pattern.includes("*")) {
      dirs.push(pattern.replace(/\/$/, ""));
    } else {
      throw new Error(`workspace pattern ${pattern} is not understood by this test: teach workspaceDirs()`);
    }
  }
  return dirs.sort();
}

const workspaces = new Map(
  workspaceDirs().map((dir) => [(readJson(`${dir}/package.json`) as Manifest).name, dir]),
);
const manifestOf = (dir: string) => readJson(`${dir}/package.json`) as Manifest;
const packageName = (specifier: string) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
const isBuiltin = (specifier: string) =>
  specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!);

/** Specifiers a module loads at run time: static and dynamic imports and re-exports, not `import type`. */
function runtimeImports(source: string): string[] {
  const out: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(
    /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^;'"]*?\s+from\s+)?["']([^"']+)["']/g,
  )) {
    if (!m[2]) out.push(m[4]!);
  }
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Resolves a workspace import such as `@tapfleet/db/embedded` through the package's exports. */
function resolveWorkspaceImport(specifier: string): string | undefined {
  const name = packageName(specifier);
  const dir = workspaces.get(name);
  if (!dir) return undefined;
  const exportsField = manifestOf(dir).exports;
  const key = "." + specifier.slice(name.length);
  const target =
    typeof exportsField === "string" ? (key === "." ? exportsField : undefined) : exportsField?.[key];
  return target ? path.posix.join(dir, target) : undefined;
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`]) {
    const full = path.join(ROOT, candidate);
    if (existsSync(full) && statSync(full).isFile()) return candidate;
  }
  return undefined;
}

/**
 * Walks the modules loaded at run time from `entries` (relative imports and workspace packages)
 * and returns the repository files reached and every third-party package imported on the way.
 */
function walkImports(entries: string[]): { files: string[]; imports: { file: string; pkg: string }[] } {
  const seen = new Set<string>();
  const imports: { file: string; pkg: string }[] = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const full = path.join(ROOT, file);
    if (!existsSync(full)) continue; // generated code not there yet: nothing to follow
    for (const specifier of runtimeImports(readFileSync(full, "utf8"))) {
      if (specifier.startsWith(".")) {
        const next = resolveRelative(file, specifier);
        if (next) queue.push(next);
      } else if (workspaces.has(packageName(specifier))) {
        const next = resolveWorkspaceImport(specifier);
        if (next) queue.push(next);
      } else if (!isBuiltin(specifier)) {
        imports.push({ file, pkg: packageName(specifier) });
      }
    }
  }
  return { files: [...seen].filter((f) => existsSync(path.join(ROOT, f))).sort(), imports };
}

/** The start script, and the server entry module it loads (by path, so no static import). */
function startModules(): { startScript: string; serverEntry: string | undefined } {
  const startScript = rootManifest.scripts!.start!.trim().split(/\s+/)[1]!;
  const files = walkImports([startScript]).files;
  const serverEntry = files
    .map((f) => /["'](apps\/server\/src\/[^"']+\.ts)["']/.exec(readText(f))?.[1])
    .find((e) => e !== undefined);
  return { startScript, serverEntry };
}

const prodDependencies = (m: Manifest) =>
  new Set([
    ...Object.keys(m.dependencies ?? {}),
    ...Object.keys(m.peerDependencies ?? {}),
    ...Object.keys(m.optionalDependencies ?? {}),
  ]);

// ---------------------------------------------------------------------------------------------
// Compose tooling: Debian's docker-compose and its schema. Missing tools fail, never skip.

function findDockerCompose(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "docker-compose");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    "docker-compose is not installed: apt-get install docker-compose (Debian package docker-compose)",
  );
}

const scratch = mkdtempSync(path.join(tmpdir(), "tapfleet-packaging-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const composeRuns = new Map<string, { status: number | null; stdout: string; stderr: string }>();

/** Runs `docker-compose … config` on our file with exactly `env` (no shell variables, no .env file). */
function composeConfig(env: Record<string, string>, extra: string[] = []) {
  const key = JSON.stringify([env, extra]);
  const cached = composeRuns.get(key);
  if (cached) return cached;
  const envFile = path.join(scratch, "empty.env");
  writeFileSync(envFile, "");
  const result = spawnSync(
    findDockerCompose(),
    ["--env-file", envFile, "-f", COMPOSE_FILE, "config", ...extra],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, NODE_ENV: "test", ...env },
    },
  );
  if (result.error) throw result.error;
  const run = { status: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
  composeRuns.set(key, run);
  return run;
}

/** Compose interpolation of one value: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _all,
      dollar: string | undefined,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar) return "$";
      const name = (braced ?? bare)!;
      const set = env[name];
      const unsetOrEmpty = set === undefined || (op?.startsWith(":") && set === "");
      if (op?.endsWith("?") && unsetOrEmpty)
        throw new Error(`${COMPOSE_FILE} requires ${name}: ${arg ?? ""}`);
      if (op?.endsWith("-") && unsetOrEmpty) return arg ?? "";
      return set ?? "";
    },
  );
}

function interpolateAll(value: Json, env: Record<string, string>): Json {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (isDict(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  return value;
}

function composeSpecValidator() {
  findDockerCompose(); // the schema comes with the same package: name it when it is missing
  if (!existsSync(COMPOSE_SPEC_SCHEMA)) {
    throw new Error(
      `${COMPOSE_SPEC_SCHEMA} is missing: apt-get install docker-compose (Debian package docker-compose)`,
    );
  }
  // The schema still carries draft-04 style "id" annotations, which ajv refuses: drop them.
  const withoutIds = (node: Json): Json =>
    Array.isArray(node)
      ? node.map(withoutIds)
      : isDict(node)
        ? Object.fromEntries(
            Object.entries(node)
              .filter(([k, v]) => !(k === "id" && typeof v === "string"))
              .map(([k, v]) => [k, withoutIds(v)]),
          )
        : node;
  const schema = withoutIds(JSON.parse(readFileSync(COMPOSE_SPEC_SCHEMA, "utf8")) as Json) as Dict;
  // It names draft 2019-09 by its old http URI with a "#"; ajv knows the draft by its https id.
  if (!String(schema.$schema).includes("/draft/2019-09/"))
    throw new Error(`${COMPOSE_SPEC_SCHEMA}: expected a draft 2019-09 schema`);
  schema.$schema = "https://json-schema.org/draft/2019-09/schema";
  const ajv = new Ajv2019({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  // The formats docker-compose registers (compose/config/validation.py) plus Go durations.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("ports", /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^([0-9.]+\/\d{1,2}|[0-9a-fA-F:.]+\/\d{1,3})$/);
  return ajv.compile(schema);
}

// ---------------------------------------------------------------------------------------------

describe(DOCKERFILE, () => {
  const stages = parseDockerfile(readText(DOCKERFILE));
  const runtime = stages.at(-1)!;
  const runtimeInstructions = runtime.instructions;
  const all = (stage: Stage) => lineage(stages, stage);
  const runs = (instructions: Instruction[], prefix: string[]) =>
    instructions.findIndex(
      (i) => i.keyword === "RUN" && shellCommands(i.args).some((c) => startsWithWords(c, prefix)),
    );
  const runtimeEnv = Object.assign(
    {},
    ...runtimeInstructions.filter((i) => i.keyword === "ENV").map((i) => parseEnv(i.args)),
  ) as Record<string, string>;

  it(`is multi-stage on ${BASE_IMAGE}, ending in a fresh runtime stage`, () => {
    expect(stages.length, "deps → build → runtime").toBeGreaterThanOrEqual(3);
    for (const stage of stages) {
      const fromStage = stages.slice(0, stages.indexOf(stage)).some((s) => s.name === stage.base);
      if (!fromStage) expect(stage.base, `stage ${stage.name}`).toBe(BASE_IMAGE);
    }
    expect(runtime.base, "the runtime stage starts from the bare base image, not from the build").toBe(
      BASE_IMAGE,
    );
    expect(runs(runtimeInstructions, ["npm"]), "the runtime stage installs nothing itself").toBe(-1);
  });

  it("installs with `npm ci` and builds with the product's `npm run build`", () => {
    expect(rootManifest.scripts?.build, "package.json scripts.build").toBeTruthy();
    const builder = stages.find((s) => runs(s.instructions, ["npm", "run", "build"]) >= 0);
    expect(builder, "a stage runs `npm run build`").toBeDefined();
    const chain = all(builder!);
    const install = runs(chain, ["npm", "ci"]);
    expect(install, "`npm ci` runs before the build (not `npm install`)").toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(runs(chain, ["npm", "run", "build"]));
    expect(runs(chain, ["npm", "install"]), "no `npm install`: the lockfile decides").toBe(-1);
  });

  it("copies every workspace manifest, the lockfile and the Prisma inputs before `npm ci`", () => {
    const installer = stages.find((s) => runs(s.instructions, ["npm", "ci"]) >= 0);
    expect(installer, "a stage runs `npm ci`").toBeDefined();
    const chain = all(installer!);
    const before = chain.slice(0, runs(chain, ["npm", "ci"]));
    const globbed = before.filter((i) => i.keyword === "COPY" && !i.flags.from && i.args.includes("*"));
    expect(
      globbed.map((i) => `line ${i.line}: ${i.args}`),
      "COPY with a glob flattens directories: list each path",
    ).toEqual([]);
    const mappings = copyMappings(before);
    const schemaPath =
      /schema:\s*["']([^"']+)["']/.exec(readText("prisma.config.ts"))?.[1] ?? "prisma/schema.prisma";
    const needed = [
      "package.json",
      "package-lock.json",
      ...(existsSync(path.join(ROOT, ".npmrc")) ? [".npmrc"] : []),
      "prisma.config.ts",
      schemaPath,
      ...[...workspaces.values()].map((dir) => `${dir}/package.json`),
    ];
    expect(workspaces.size, "workspaces found").toBeGreaterThan(0);
    const missing = needed.filter((rel) => !copiedInPlace(mappings, rel));
    expect(missing, `copy these into place before \`npm ci\` in ${DOCKERFILE}`).toEqual([]);
  });

  it("starts with the same command as `npm start`", () => {
    const start = rootManifest.scripts?.start;
    expect(start, "package.json scripts.start").toBeTruthy();
    const cmd = runtimeInstructions.filter((i) => i.keyword === "CMD").at(-1);
    expect(cmd, "the runtime stage has a CMD").toBeDefined();
    const words = execForm(cmd!.args);
    expect(words, "CMD in exec form, so node is PID 1's child-free process and gets signals").toBeDefined();
    expect(words).toEqual(start!.trim().split(/\s+/));
    const script = words![1]!;
    expect(existsSync(path.join(ROOT, script)), `${script} exists`).toBe(true);
    expect(
      runtimeInstructions.some((i) => i.keyword === "ENTRYPOINT"),
      "no ENTRYPOINT wrapping the CMD",
    ).toBe(false);
  });

  it("carries what the server reads at run time into the runtime stage", () => {
    const mappings = copyMappings(runtimeInstructions);
    const { startScript, serverEntry } = startModules();
    expect(
      serverEntry,
      `${startScript} (or a module it imports) names the server entry module`,
    ).toBeDefined();
    const serverDir = workspaces.get("@tapfleet/server") ?? "apps/server";
    // The server and every workspace it depends on (node_modules links to them).
    const closure = new Set<string>();
    const visit = (dir: string) => {
      if (closure.has(dir)) return;
      closure.add(dir);
      for (const dep of Object.keys(manifestOf(dir).dependencies ?? {})) {
        const depDir = workspaces.get(dep);
        if (depDir) visit(depDir);
      }
    };
    visit(serverDir);
    const needed = [
      "package.json", // the version the server reports
      "node_modules",
      "prisma/migrations", // applied by the server at start
      ...[...closure].map((dir) => `${dir}/package.json`),
      // Every module `npm start` loads, from the start script through the server's imports.
      ...walkImports([startScript, serverEntry!]).files,
    ];
    if (runtimeEnv.TAPFLEET_SERVE_DASHBOARD !== "false")
      needed.push("apps/web/.next", "apps/web/package.json");
    const missing = [...new Set(needed)].filter((rel) => !copiedInPlace(mappings, rel));
    expect(missing, "the runtime stage must copy these to the same place").toEqual([]);
    for (const m of mappings) {
      expect(
        stages.some((s) => s.name === m.from),
        `COPY --from=${m.from ?? "(context)"} ${m.source}: from a build stage`,
      ).toBe(true);
    }
  });

  it("keeps every package imported at run time as a dependency (dev ones are pruned)", () => {
    const prunes = stages.some((s) =>
      s.instructions.some(
        (i) => i.keyword === "RUN" && shellCommands(i.args).some((c) => startsWithWords(c, ["npm", "prune"])),
      ),
    );
    expect(prunes, "the build drops dev dependencies with `npm prune --omit=dev`").toBe(true);
    const { startScript, serverEntry } = startModules();
    const { imports } = walkImports([startScript, serverEntry!]);
    expect(
      imports.map((i) => i.pkg),
      "the walk reaches tsx, fastify and next (the dashboard)",
    ).toEqual(expect.arrayContaining(["tsx", "fastify", "next"]));
    // `npm prune --omit=dev` keeps the dependencies of the root and of every workspace (hoisted
    // into one node_modules), so a package must be a non-dev dependency of at least one of them.
    const kept = new Set([
      ...prodDependencies(rootManifest),
      ...[...workspaces.values()].flatMap((dir) => [...prodDependencies(manifestOf(dir))]),
    ]);
    const problems = imports
      .filter(({ pkg }) => !kept.has(pkg))
      .map(
        ({ file, pkg }) => `${file} imports ${pkg}, which only devDependencies list: the image would lack it`,
      );
    expect([...new Set(problems)]).toEqual([]);
  });

  it("runs as a non-root user with a /readyz health check and listens on all interfaces", async () => {
    const user = runtimeInstructions
      .filter((i) => i.keyword === "USER")
      .at(-1)
      ?.args.split(":")[0];
    expect(user, "a USER in the runtime stage").toBeDefined();
    expect(["root", "0"], "the runtime user is not root").not.toContain(user);
    const healthcheck = runtimeInstructions.filter((i) => i.keyword === "HEALTHCHECK").at(-1);
    expect(healthcheck, "a HEALTHCHECK in the runtime stage").toBeDefined();
    expect(healthcheck!.args).toMatch(/^CMD\s/);
    const probe = execForm(healthcheck!.args.replace(/^CMD\s+/, "")) ?? [healthcheck!.args];
    expect(probe[0], "probe with node (no curl in slim images)").toBe("node");
    expect(probe.join(" ")).toContain("/readyz");

    expect(runtimeEnv).toMatchObject({
      HOST: "0.0.0.0",
      PORT: "3000",
      NODE_ENV: "production",
      TAPFLEET_SERVE_DASHBOARD: "true",
    });
    const exposed = runtimeInstructions
      .filter((i) => i.keyword === "EXPOSE")
      .flatMap((i) => i.args.split(/\s+/));
    expect(
      exposed.map((p) => p.replace(/\/tcp$/, "")),
      "EXPOSE the PORT",
    ).toContain(runtimeEnv.PORT);
    // Every server variable set in the image is one the server knows, with a value it accepts.
    const { ZServerEnvSchema, loadServerEnv } = await import("../apps/server/src/env.ts");
    const known = Object.keys(ZServerEnvSchema.shape);
    const unknown = Object.keys(runtimeEnv).filter(
      (k) => /^(TAPFLEET_|DATABASE_URL$|LOG_LEVEL$)/.test(k) && !known.includes(k),
    );
    expect(unknown, "unknown server variables in ENV").toEqual([]);
    expect(() => loadServerEnv(runtimeEnv)).not.toThrow();
  });
});

describe(COMPOSE_FILE, () => {
  const raw = dict(parseYaml(readText(COMPOSE_FILE)) as Json, COMPOSE_FILE);
  const rawServices = dict(raw.services, "services");

  it("passes `docker-compose config` without warnings and with no variables set", () => {
    const result = composeConfig({}, ["-q"]);
    expect(result.stderr, "docker-compose config -q").toBe("");
    expect(result.status).toBe(0);
  });

  it("validates against the Compose Specification schema", () => {
    const validate = composeSpecValidator();
    const interpolated = interpolateAll(raw, {});
    const valid = validate(interpolated);
    const errors = (validate.errors ?? []).map(
      (e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
    );
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
  });

  const resolved = (env: Record<string, string>) => {
    const result = composeConfig(env);
    expect(result.status, result.stderr).toBe(0);
    const config = dict(parseYaml(result.stdout) as Json, "docker-compose config output");
    const services = dict(config.services, "services");
    return {
      config,
      postgres: dict(services.postgres, "services.postgres"),
      tapfleet: dict(services.tapfleet, "services.tapfleet"),
    };
  };

  it("runs PostgreSQL 17 on a named volume, healthy by pg_isready, not published on the host", () => {
    const { config, postgres } = resolved({});
    expect(postgres.image).toBe("postgres:17");
    expect(postgres.ports, "PostgreSQL is not published on the host").toBeUndefined();
    const volumes = (postgres.volumes as Json[] | undefined) ?? [];
    const data = volumes
      .map((v) =>
        typeof v === "string" ? { source: v.split(":")[0], target: v.split(":")[1] } : dict(v, "volume"),
      )
      .find((v) => v.target === "/var/lib/postgresql/data");
    expect(data, "a volume on /var/lib/postgresql/data").toBeDefined();
    expect(Object.keys(dict(config.volumes ?? {}, "volumes")), "the data volume is a named volume").toContain(
      data!.source,
    );
    const test = dict(postgres.healthcheck, "postgres healthcheck").test;
    expect(JSON.stringify(test)).toContain("pg_isready");
    // Credentials come from the environment (with local-only defaults), never only from the file.
    const env = dict(dict(rawServices.postgres, "postgres").environment, "postgres environment");
    for (const key of ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]) {
      expect(String(env[key]), `${key} is read from the environment`).toMatch(
        new RegExp(`^\\$\\{${key}(:?-[^}]*)?\\}$`),
      );
    }
  });

  it("builds tapfleet from the Dockerfile at the repository root and waits for a healthy database", () => {
    const { tapfleet } = resolved({});
    const build = dict(tapfleet.build, "tapfleet build");
    expect(path.resolve(ROOT, scalar(build.context)), "build context is the repository root").toBe(ROOT);
    expect(path.resolve(ROOT, scalar(build.context), scalar(build.dockerfile ?? "Dockerfile"))).toBe(
      path.join(ROOT, DOCKERFILE),
    );
    const dependsOn = dict(tapfleet.depends_on, "tapfleet depends_on");
    expect(dict(dependsOn.postgres, "depends_on.postgres").condition).toBe("service_healthy");
    expect(scalar(tapfleet.restart), "a restart policy").toMatch(/^(always|unless-stopped|on-failure)/);
    const ports = ((tapfleet.ports as Json[] | undefined) ?? []).map((p) =>
      typeof p === "string"
        ? { target: Number(p.split(":").at(-1)), published: Number(p.split(":").at(-2)) }
        : dict(p, "port"),
    );
    expect(
      ports.map((p) => Number(p.target)),
      "the server port is published",
    ).toContain(3000);
    // Health: an explicit /readyz check, or the image's HEALTHCHECK inherited (not disabled).
    const healthcheck =
      tapfleet.healthcheck === undefined ? undefined : dict(tapfleet.healthcheck, "healthcheck");
    if (healthcheck) {
      expect(healthcheck.disable, "the health check is not disabled").not.toBe(true);
      if (healthcheck.test !== undefined) expect(JSON.stringify(healthcheck.test)).toContain("/readyz");
    }
    if (!healthcheck?.test) {
      const inherited = parseDockerfile(readText(DOCKERFILE))
        .at(-1)!
        .instructions.some((i) => i.keyword === "HEALTHCHECK" && !/^NONE\b/i.test(i.args));
      expect(inherited, "no healthcheck here, so the image must have one").toBe(true);
    }
  });

  it("points DATABASE_URL at the postgres service with the same credentials, whatever they are", () => {
    const envs: Record<string, string>[] = [
      {},
      { POSTGRES_USER: "fleet", POSTGRES_PASSWORD: "s3cret-Pw_x", POSTGRES_DB: "fleetdb" },
    ];
    for (const env of envs) {
      const { postgres, tapfleet } = resolved(env);
      const pgEnv = dict(postgres.environment, "postgres environment");
      const url = new URL(String(dict(tapfleet.environment, "tapfleet environment").DATABASE_URL));
      expect(url.protocol).toMatch(/^postgres(ql)?:$/);
      expect(url.hostname, "the compose service name").toBe("postgres");
      expect(url.port || "5432").toBe("5432");
      expect(decodeURIComponent(url.username)).toBe(pgEnv.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pgEnv.POSTGRES_PASSWORD);
      expect(url.pathname.slice(1)).toBe(pgEnv.POSTGRES_DB);
      if ("POSTGRES_PASSWORD" in env) expect(pgEnv.POSTGRES_PASSWORD).toBe(env.POSTGRES_PASSWORD);
    }
  });

  it("passes TAPFLEET_ADMIN_PASSWORD through and sets only variables the server accepts", async () => {
    const password = "a-long-admin-password-42";
    const withPassword = dict(
      resolved({ TAPFLEET_ADMIN_PASSWORD: password }).tapfleet.environment,
      "environment",
    );
    expect(withPassword.TAPFLEET_ADMIN_PASSWORD).toBe(password);
    const without = dict(resolved({}).tapfleet.environment, "environment");
    expect(without.TAPFLEET_ADMIN_PASSWORD ?? "", "unset stays unset (the server then generates one)").toBe(
      "",
    );

    const { ZServerEnvSchema, loadServerEnv } = await import("../apps/server/src/env.ts");
    const known = Object.keys(ZServerEnvSchema.shape);
    const unknown = Object.keys(without).filter((k) => !known.includes(k));
    expect(unknown, "variables the server does not read").toEqual([]);
    const image = Object.assign(
      {},
      ...parseDockerfile(readText(DOCKERFILE))
        .at(-1)!
        .instructions.filter((i) => i.keyword === "ENV")
        .map((i) => parseEnv(i.args)),
    ) as Record<string, string>;
    const effective = {
      ...image,
      ...Object.fromEntries(Object.entries(without).map(([k, v]) => [k, scalar(v)])),
    };
    const parsed = loadServerEnv(effective);
    expect(parsed.HOST, "the container listens on all interfaces").toBe("0.0.0.0");
    expect(parsed.DATABASE_URL, "an external database, not the embedded one").toBeDefined();
  });
});

describe("tapfleet-agent from the repository", () => {
  const agentDir = workspaces.get("@tapfleet/agent") ?? "packages/agent";
  const agentManifest = readJson(`${agentDir}/package.json`) as Manifest & { bin?: Record<string, string> };

  // npx finds the command in node_modules/.bin, never in the registry (offline: a miss fails, not a
  // download). No agent setting of this run's environment reaches it.
  const npx = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_offline: "true" };
    for (const key of Object.keys(env))
      if (/^(VSENSOR_|OSSENSOR_|TAPFLEET_|ANTIGENA_)/.test(key)) delete env[key];
    return spawnSync("npx", ["tapfleet-agent", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env,
      timeout: 120_000,
    });
  };

  it("links a bin that is committed, not one only a build would create", () => {
    const bin = agentManifest.bin?.["tapfleet-agent"];
    expect(bin, `${agentDir}/package.json bin.tapfleet-agent`).toBeDefined();
    const file = path.posix.join(agentDir, bin!);
    const tracked = spawnSync("git", ["ls-files", "--error-unmatch", file], { cwd: ROOT, encoding: "utf8" });
    expect(tracked.status, `${file} is in git, so \`npm install\` of a fresh clone links it`).toBe(0);
    expect(statSync(path.join(ROOT, file)).mode & 0o111, `${file} is executable`).not.toBe(0);
  });

  it("answers `npx tapfleet-agent --help` right after `npm install`, without the network", () => {
    const result = npx(["--help"]);
    expect(result.stderr).not.toMatch(/npm error/);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^tapfleet-agent \d+\.\d+\.\d+: the capture agent/);
    expect(result.stdout).toContain("packages/agent/README.md");
  });

  it("runs the agent itself: without settings it exits 2 naming each missing variable", () => {
    const result = npx([]);
    expect(result.stderr).not.toMatch(/npm error/);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /^tapfleet-agent: invalid settings: VSENSOR_HOSTNAME: is required; VSENSOR_HMAC_KEY: is required$/m,
    );
  });

  it("refuses a command-line option, since settings come from the environment", () => {
    const result = npx(["--interface=eth0"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('tapfleet-agent: unknown argument "--interface=eth0"');
  });
});
