import { describe, expect, it } from 'vitest';
import { CredentialStates } from '../../src/coordination/credential-state.js';

describe('per-credential memory', () => {
  it('recognises the last few values handed out by their stored id, newest first', () => {
    const state = new CredentialStates().use('api');
    for (let i = 1; i <= 6; i++) state.remember(`token-${i}`, `id-${i}`);
    expect(state.idOf('token-6')).toBe('id-6');
    expect(state.idOf('token-3')).toBe('id-3');
    expect(state.idOf('token-2')).toBeUndefined(); // only the last four are kept
    state.remember('token-3', 'id-3b');
    expect(state.idOf('token-3')).toBe('id-3b');
  });

  it('forgets the least recently used credential past its bound', () => {
    const states = new CredentialStates(3);
    const a = states.use('a');
    states.use('b');
    states.use('c');
    expect(states.use('a')).toBe(a); // a is now the most recent
    states.use('d'); // evicts b
    expect(states.size).toBe(3);
    expect(states.peek('b')).toBeUndefined();
    expect(states.peek('a')).toBe(a);
  });
});
