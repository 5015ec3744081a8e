// Reading a tRPC subscription's server-sent events in tests: the messages
// (frames without an `event:` name) parsed as JSON; tRPC's own frames
// (`connected`, `ping`, …) are left out.

export interface SseReader {
  /**
   * Reads messages until `until` accepts the messages so far, and returns them
   * all. Rejects with what was received if the stream ends or `timeoutMs`
   * passes first.
   */
  readUntil<T>(until: (messages: T[]) => boolean, timeoutMs: number): Promise<T[]>;
}

export function readSse(response: Response): SseReader {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const messages: unknown[] = [];

  const take = () => {
    const frames = buffer.split("\n\n");
    buffer = frames.pop()!;
    for (const frame of frames) {
      const lines = frame.split("\n");
      if (lines.some((line) => line.startsWith("event:"))) continue;
      const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart());
      if (data.length > 0) messages.push(JSON.parse(data.join("\n")));
    }
  };

  return {
    async readUntil<T>(until: (messages: T[]) => boolean, timeoutMs: number): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      const received = () => JSON.stringify(messages).slice(0, 2000);
      while (!until(messages as T[])) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no matching events within ${timeoutMs} ms; received ${received()}`)),
            Math.max(0, deadline - Date.now()),
          );
        });
        try {
          const { value, done } = await Promise.race([reader.read(), timeout]);
          if (done) throw new Error(`the stream ended; received ${received()}`);
          buffer += decoder.decode(value, { stream: true });
          take();
        } finally {
          clearTimeout(timer);
        }
      }
      return [...messages] as T[];
    },
  };
}
