// What the kubelet keeps of a container's output: a bounded buffer per container
// instance, and the `tailLines` cut of the `/log` endpoint.

/** Keeps the newest `limit` bytes (in whole chunks, always at least the last one). */
export class LogBuffer {
  private chunks: string[] = [];
  private bytes = 0;
  constructor(private readonly limit: number) {}

  append(text: string): void {
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text);
    while (this.bytes > this.limit && this.chunks.length > 1)
      this.bytes -= Buffer.byteLength(this.chunks.shift()!);
  }

  text(): string {
    return this.chunks.join("");
  }
}

/** The last `lines` lines of a log, keeping its trailing newline. */
export function tailText(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  if (lines <= 0) return "";
  const trailing = text.endsWith("\n");
  const all = (trailing ? text.slice(0, -1) : text).split("\n");
  const kept = all.slice(-lines).join("\n");
  return trailing ? `${kept}\n` : kept;
}
