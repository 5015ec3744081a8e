// The same account rules the server enforces, checked before sending so people get immediate,
// specific feedback. The server stays the authority: its field errors are shown too.

export const usernamePattern = /^[a-z0-9._-]+$/;
export const minPasswordLength = 12;

export function validateUsername(username: string): string | null {
  if (username.length < 3) return "Use at least 3 characters.";
  if (username.length > 64) return "Use at most 64 characters.";
  if (!usernamePattern.test(username))
    return "Use lowercase letters, digits, dots, underscores or hyphens only.";
  return null;
}

export function validatePassword(password: string): string | null {
  if (password.length < minPasswordLength) return `Use at least ${minPasswordLength} characters.`;
  return null;
}

export function validateTokenName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return "Give the token a name, e.g. the pipeline that will use it.";
  if (trimmed.length > 100) return "Use at most 100 characters.";
  return null;
}
