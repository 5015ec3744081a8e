// The procedure table: every procedure with its type and smallest role.
// Used by the REST/OpenAPI surface and by the role-refusal tests.
import type { Role } from "@tapfleet/core";
import { appRouter } from "./router.ts";
import type { ProcedureMeta } from "./trpc.ts";

export interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  role: Role | null;
}

export function listProcedures(): ProcedureInfo[] {
  const procedures = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: ProcedureInfo["type"]; meta?: ProcedureMeta } }
  >;
  return Object.entries(procedures)
    .map(([path, procedure]) => ({
      path,
      type: procedure._def.type,
      role: procedure._def.meta?.role ?? null,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
