// The lines a log viewer keeps: a followed log may run for hours, so only the newest lines
// stay; the count of dropped ones is kept so the viewer can say so rather than hide it.

/** The most lines the viewer keeps (the largest tail choice, with room to follow). */
export const LOG_VIEWER_MAX_LINES = 10_000;

export interface LogBuffer {
  lines: string[];
  /** Lines dropped from the start to stay within the limit. */
  dropped: number;
}

export const EMPTY_LOG_BUFFER: LogBuffer = { lines: [], dropped: 0 };

/** The buffer with `added` at its end, the oldest lines dropped beyond `max`. */
export function appendLogLines(
  buffer: LogBuffer,
  added: readonly string[],
  max = LOG_VIEWER_MAX_LINES,
): LogBuffer {
  if (added.length === 0) return buffer;
  const lines = [...buffer.lines, ...added];
  const over = Math.max(0, lines.length - max);
  return { lines: over > 0 ? lines.slice(over) : lines, dropped: buffer.dropped + over };
}

/** Whether a scrolled box shows its end (within a few pixels): following resumes there. */
export function isScrolledToEnd(box: {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}): boolean {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 8;
}
