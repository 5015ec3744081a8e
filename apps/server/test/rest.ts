// Calling the REST API (/api/v1) in tests, as a CI job or the CLI would: with
// a bearer token or a session cookie, the body sent as JSON, the answer read
// as text and parsed as JSON when there is any.

export interface RestAnswer<T> {
  status: number;
  /** The answer's content-type. */
  type: string;
  text: string;
  /** The parsed body; `{}` when the answer has none. */
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
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text,
    json: (text ? JSON.parse(text) : {}) as T,
  };
}
