// Roles are ordered: each one can do everything the one before it can.
export const roles = ["viewer", "operator", "admin"] as const;
export type Role = (typeof roles)[number];

export const roleLabels: Record<Role, string> = { viewer: "Viewer", operator: "Operator", admin: "Admin" };

export const roleColors: Record<Role, string> = { viewer: "gray", operator: "blue", admin: "grape" };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(minimum);
}

/** Roles a caller may hand out (to a token): never more than their own. */
export function rolesUpTo(role: Role): Role[] {
  return roles.filter((candidate) => roleAtLeast(role, candidate));
}
