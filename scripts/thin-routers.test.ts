// The lint rule that keeps database queries out of packages/api (eslint.config.js)
// must pass on the tree, fire on a router that queries Prisma through ctx.db,
// and let a router hand ctx.db to a core function.
import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const RULE = "no-restricted-syntax";
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** The messages of the rule for `code` linted as if it were a router of packages/api. */
async function ruleMessages(code: string, file = "packages/api/src/routers/auth.ts"): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe("thin routers: no ctx.db queries in packages/api", () => {
  it("fires on a router that queries the database itself", async () => {
    const messages = await ruleMessages(
      'import type { ApiContext } from "../context.ts";\n' +
        "export async function me(ctx: ApiContext) {\n" +
        "  return ctx.db.user.findUnique({ where: { id: 'x' } });\n" +
        "}\n",
    );
    expect(messages).toEqual([
      "No database queries in packages/api: call a packages/core function and pass it ctx.db.",
    ]);
  }, 120_000);

  it("lets a router pass ctx.db to a core function", async () => {
    const messages = await ruleMessages(
      'import { listUsers } from "@tapfleet/core";\n' +
        'import type { ApiContext } from "../context.ts";\n' +
        "export async function list(ctx: ApiContext) {\n" +
        "  return listUsers({ db: ctx.db });\n" +
        "}\n",
    );
    expect(messages).toEqual([]);
  }, 120_000);

  it("does not apply outside packages/api", async () => {
    const messages = await ruleMessages(
      'import type { Db } from "@tapfleet/db";\n' +
        "export async function count(ctx: { db: Db }) {\n" +
        "  return ctx.db.user.count();\n" +
        "}\n",
      "packages/core/src/users/users.ts",
    );
    expect(messages).toEqual([]);
  }, 120_000);

  it("passes on the repository's packages/api", async () => {
    const results = await eslint.lintFiles(["packages/api/src"]);
    const found = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === RULE)
        .map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.message}`),
    );
    expect(found).toEqual([]);
  }, 120_000);
});
