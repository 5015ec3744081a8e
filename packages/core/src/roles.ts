// Roles are an account rule of the sensor contract, shared with the API and the dashboard.
import type { Role as StoredRole } from "@tapfleet/db";
import { ROLES, roleAtLeast, type Role } from "@tapfleet/sensor/accounts";

// The database's enum and the rule name the same roles; this fails to compile when they drift.
const sameRoles: [StoredRole, Role] extends [Role, StoredRole] ? true : never = true;
void sameRoles;

export { ROLES, roleAtLeast, type Role };
