import { describe, expect, it } from 'vitest';
import { isReplayable, isReplayableBody, isRequest } from '../src/request-body.js';

const stream = () => new ReadableStream({ start: (c) => c.close() });

describe('isReplayable', () => {
  it.each([
    ['no body', undefined],
    ['null', null],
    ['a string', 'a=1'],
    ['URLSearchParams', new URLSearchParams({ a: '1' })],
    ['an ArrayBuffer', new ArrayBuffer(4)],
    ['a Uint8Array', new Uint8Array([1, 2])],
    ['a DataView', new DataView(new ArrayBuffer(2))],
    ['a Blob', new Blob(['x'])],
    ['FormData', new FormData()],
  ])('replays %s', (_label, body) => {
    expect(isReplayableBody(body)).toBe(true);
    expect(
      isReplayable('https://api.test/', { method: 'POST', body: body as BodyInit | null }),
    ).toBe(true);
  });

  it.each([
    ['a ReadableStream', stream()],
    ['an async iterable', (async function* () {})()],
    ['a plain object', { a: 1 }],
  ])('does not replay %s', (_label, body) => {
    expect(isReplayableBody(body)).toBe(false);
    expect(
      isReplayable('https://api.test/', { method: 'POST', body: body as unknown as BodyInit }),
    ).toBe(false);
  });

  it('replays a Request without a body and refuses one with a body (a stream)', () => {
    expect(isReplayable(new Request('https://api.test/'), undefined)).toBe(true);
    expect(
      isReplayable(new Request('https://api.test/', { method: 'POST', body: 'x' }), undefined),
    ).toBe(false);
  });

  it('lets init.body decide over the Request body, as fetch does', () => {
    const request = new Request('https://api.test/', { method: 'POST', body: 'x' });
    expect(isReplayable(request, { body: 'y' })).toBe(true);
  });

  it('recognises a Request by shape, and never a URL', () => {
    expect(isRequest(new Request('https://api.test/'))).toBe(true);
    expect(isRequest({ url: 'https://api.test/', method: 'GET', headers: {} })).toBe(true);
    expect(isRequest(new URL('https://api.test/'))).toBe(false);
    expect(isRequest('https://api.test/')).toBe(false);
  });
});
