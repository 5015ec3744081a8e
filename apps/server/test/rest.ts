// Calling the REST API (/api/v1) in tests, as a CI job or the CLI would: with
// a bearer token or a session cookie, the body sent as JSON, the answer read
// as text and parsed when it is JSON.

export interface RestAnswer<T> {
  status: number;
  /** The answer's content-type. */
  type: string;
  text: string;
  /** The parsed body; `{}` when the answer has none or is not JSON. */
  json: T;
}

export async function callRest<T = Record<string, unknown>>(
  baseUrl: string,
  request: { method: string; path: string; token?: string; cookie?: string; body?: unknown },
): Promise<RestAnswer<T>> {
  const response = await fetch(`${baseUrl}/api/v1${request.path}`, {
    method: request.method,
    headers: {
      ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
      ...(request.cookie === undefined ? {} : { cookie: request.cookie }),
      ...(request.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return {
    status: response.status,
    type,
    text,
    // A YAML or plain-text answer (an export, a log) is read from `text`.
    json: (text && /\bjson\b/.test(type) ? JSON.parse(text) : {}) as T,
  };
}
