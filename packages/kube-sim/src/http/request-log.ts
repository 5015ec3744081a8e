// The requests one simulated API server answered, while recording: what a
// test reads to see which calls a client makes (a watch, or a GET every
// second), as an API server's audit log would show them.

export interface RecordedRequest {
  /** When the request arrived (epoch milliseconds). */
  at: number;
  method: string;
  /** The path with its query string, as sent. */
  path: string;
  /** Whether it asked for a watch (`?watch=true`). */
  watch: boolean;
}

export interface RequestRecording {
  /** The requests so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Stops recording (what was recorded stays readable). */
  stop(): void;
}

export interface RequestLog {
  /** Starts recording every request from now on; several recordings may run at once. */
  record(): RequestRecording;
}

export class RequestRecorder implements RequestLog {
  private readonly active = new Set<RecordedRequest[]>();

  record(): RequestRecording {
    const requests: RecordedRequest[] = [];
    this.active.add(requests);
    return {
      requests,
      stop: () => {
        this.active.delete(requests);
      },
    };
  }

  /** Called by the server for each request. */
  seen(method: string, url: URL): void {
    if (this.active.size === 0) return;
    const entry: RecordedRequest = {
      at: Date.now(),
      method,
      path: `${url.pathname}${url.search}`,
      watch: url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1",
    };
    for (const requests of this.active) requests.push(entry);
  }
}
