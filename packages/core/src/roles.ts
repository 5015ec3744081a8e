import type { Role } from "@tapfleet/db";

export const ROLES = ["viewer", "operator", "admin"] as const satisfies readonly Role[];
export type { Role };

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** True when `role` grants at least what `required` grants. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}
