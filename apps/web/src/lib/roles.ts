// The roles and their order are the server's, from the sensor contract; only how they look is here.
import { ROLES, roleAtLeast, type Role } from "@tapfleet/sensor/accounts";

export { roleAtLeast, type Role };
export const roles = ROLES;

export const roleLabels: Record<Role, string> = { viewer: "Viewer", operator: "Operator", admin: "Admin" };

export const roleColors: Record<Role, string> = { viewer: "gray", operator: "blue", admin: "grape" };

/** Roles a caller may hand out (to a token): never more than their own. */
export function rolesUpTo(role: Role): Role[] {
  return roles.filter((candidate) => roleAtLeast(role, candidate));
}
