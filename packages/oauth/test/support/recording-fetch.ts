/** A `fetch` that records what the mints send, for assertions on client authentication. */

export interface SentRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: URLSearchParams;
}

export function recordingFetch(): {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  sent: SentRequest[];
} {
  const sent: SentRequest[] = [];
  return {
    sent,
    fetch: (url, init) => {
      sent.push({
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers),
        body:
          init.body instanceof URLSearchParams
            ? new URLSearchParams(init.body)
            : new URLSearchParams(),
      });
      return fetch(url, init);
    },
  };
}
