/**
 * traceMint / traceKeyedMint keep the wrapped mint's traits (issue 14, section 1: a traced
 * OAuth mint behind @sluice/redis lost its codec and adopting replicas got a redacted token).
 */

import { type KeyedMint, type Mint, mintTraitsOf, withMintTraits } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import { traceKeyedMint, traceMint } from '../src/index.js';
import { createTracing } from './support/otel.js';

const codec = { encode: (v: string) => v, decode: (text: string) => text };

describe('traceMint keeps mint traits', () => {
  it('a traced mint carries the codec and the unshareable reason of the mint it wraps', () => {
    const { tracerProvider } = createTracing();
    const mint: Mint<string> = () => ({ value: 'v' });
    withMintTraits(mint, { codec, unshareable: 'bound to a local key' });
    const traced = traceMint(mint, { tracerProvider });
    expect(traced).not.toBe(mint);
    expect(mintTraitsOf(traced)).toEqual({ codec, unshareable: 'bound to a local key' });
  });

  it('a traced keyed mint carries them too', () => {
    const { tracerProvider } = createTracing();
    const mint: KeyedMint<string, string> = () => ({ value: 'v' });
    withMintTraits(mint, { codec });
    expect(mintTraitsOf(traceKeyedMint(mint, { tracerProvider }))?.codec).toBe(codec);
  });

  it('a plain mint stays plain: the traced mint has no traits', () => {
    const { tracerProvider } = createTracing();
    expect(mintTraitsOf(traceMint(() => ({ value: 'v' }), { tracerProvider }))).toBeUndefined();
  });
});
