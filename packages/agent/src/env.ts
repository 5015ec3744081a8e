// The one place the agent reads its environment: everything else receives it.
export function readEnv(): Readonly<Record<string, string | undefined>> {
  return { ...process.env };
}
