/**
 * Where to go after signing in. Only paths on this site are accepted: `?next=` comes from the
 * URL, and following it to another origin would make the login page an open redirect.
 */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/fleet";
  if (next === "/login" || next.startsWith("/login?") || next.startsWith("/login/")) return "/fleet";
  return next;
}
