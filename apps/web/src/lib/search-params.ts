/** A page's `searchParams` (as Next.js gives them to a server component) as URLSearchParams. */
export function toURLSearchParams(record: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(record)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      params.append(name, item);
    }
  }
  return params;
}
