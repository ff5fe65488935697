/**
 * `pnpm demo`: Sluice against a real OAuth 2.0 server on loopback, narrated as a timeline.
 *
 *   A. 1,000 concurrent callers on a cold provider cause exactly one token request.
 *   B. Callers keep calling; the token is refreshed in the background at its due point and
 *      nobody waits for it.
 *   C. The token endpoint goes down (503): the still-valid token keeps being served while the
 *      refresh fails; once it expires, the open breaker makes callers fail fast.
 *   D. The endpoint recovers: one half-open probe, the breaker closes, callers are served.
 *
 * Every claim is checked; the process exits 1 if one does not hold, so CI catches
 * regressions. Token values are never printed.
 */

import { combineReporters, createRefreshingProvider, type RefreshingProvider } from '@sluice/core';
import { type AccessToken, clientCredentialsMint } from '@sluice/oauth';
import { callInLoop, emptyStats, latency, type PhaseStats } from './caller-load.js';
import { startOAuthServer } from './oauth-server.js';
import { createTimeline } from './timeline.js';

/** Access-token lifetime the server issues, in seconds. */
const TOKEN_TTL_SECONDS = 6;
/** Refresh at half the lifetime, no jitter: the same timeline on every run. */
const REFRESH_AT = 0.5;
const BREAKER = { failureThreshold: 3, cooldownMs: 2_000 };
const COLD_CALLERS = 1_000;
/** The steady load of phases B-D: this many concurrent `get`s every tick. */
const CALLERS_PER_TICK = 10;
const TICK_MS = 50;
const LOAD = { callersPerTick: CALLERS_PER_TICK, tickMs: TICK_MS };
/** How long phase C keeps calling after the token expired, to show the fast failures. */
const FAST_FAIL_WINDOW_MS = 700;
/** The demo must finish well before this; a dangling handle would otherwise hang CI. */
const HARD_LIMIT_MS = 60_000;

interface Expectation {
  readonly label: string;
  readonly ok: boolean;
  readonly actual: string;
}

const output: string[] = [];
const write = (line: string): void => {
  output.push(line);
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<number> {
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const startedAt = performance.now();
  const expectations: Expectation[] = [];
  const expect = (label: string, ok: boolean, actual: string): void => {
    expectations.push({ label, ok, actual });
    if (!ok) write(`           ✗ expectation failed: ${label} (got ${actual})`);
  };
  const seenTokens = new Set<string>();
  const phases = new Map<string, PhaseStats>();

  const server = await startOAuthServer({ accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
  const timeline = createTimeline({ write, color });
  const failureLifetimes: number[] = [];
  let provider: RefreshingProvider<AccessToken> | undefined;
  try {
    write(
      `Sluice demo: oidc-provider issuing ${TOKEN_TTL_SECONDS} s client_credentials tokens at ${server.issuer}`,
    );
    write(
      `provider 'demo' (mint: @sluice/oauth clientCredentialsMint): lazy, refreshAt ${REFRESH_AT}, breaker ${BREAKER.failureThreshold} failures / ${BREAKER.cooldownMs} ms cooldown`,
    );
    write('');
    timeline.header();

    provider = await createRefreshingProvider({
      name: 'demo',
      lazy: true,
      mint: clientCredentialsMint({
        issuer: server.issuer,
        clientId: server.clientId,
        clientAuth: { method: 'client_secret_basic', clientSecret: server.clientSecret },
        allowInsecureRequests: true, // plain http, on loopback only
      }),
      refreshAt: REFRESH_AT,
      jitter: 0,
      refreshFloorMs: 1_000,
      minRefreshIntervalMs: 500,
      mintTimeoutMs: 2_000,
      breaker: BREAKER,
      reporter: combineReporters(timeline.reporter, {
        onRefreshFailure: (event) => {
          if (event.cachedRemainingLifetimeSeconds !== undefined)
            failureLifetimes.push(event.cachedRemainingLifetimeSeconds);
        },
      }),
    });
    const tokens = provider;

    // ------------------------------------------------------------------ phase A
    timeline.phase(
      `Phase A: cold start, ${COLD_CALLERS.toLocaleString('en')} concurrent callers on a lazy provider`,
    );
    {
      const requestsBefore = server.tokenRequests();
      const t0 = performance.now();
      const servedMs: number[] = [];
      const timed = async (): Promise<string> => {
        const { token } = await tokens.get();
        servedMs.push(performance.now() - t0);
        return token;
      };
      const results = await Promise.allSettled(Array.from({ length: COLD_CALLERS }, timed));
      const tookMs = performance.now() - t0;
      const values = new Set<string>();
      let served = 0;
      for (const result of results) {
        if (result.status === 'fulfilled') {
          served += 1;
          values.add(result.value);
          seenTokens.add(result.value);
        }
      }
      const requests = server.tokenRequests() - requestsBefore;
      const counts = timeline.counts();
      const waiters = counts.coalesced[0]?.waiters ?? 0;
      timeline.note(
        `${served} of ${COLD_CALLERS} callers served in ${tookMs.toFixed(0)} ms; token requests at the server: ${requests}; mints reported: ${counts.starts}; callers that shared it: ${waiters}`,
      );
      phases.set('A', {
        ...emptyStats(),
        served,
        servedMs,
        otherErrors: COLD_CALLERS - served,
        tokenRequests: requests,
      });
      expect('A: exactly one token request reached the server', requests === 1, String(requests));
      expect('A: the reporter saw exactly one mint', counts.starts === 1, String(counts.starts));
      expect(
        `A: all ${COLD_CALLERS} callers got the same token`,
        served === COLD_CALLERS && values.size === 1,
        `${served} served, ${values.size} distinct`,
      );
      expect(
        `A: the one mint had ${COLD_CALLERS} waiters`,
        waiters === COLD_CALLERS,
        String(waiters),
      );
    }

    // ------------------------------------------------------------------ phase B
    timeline.phase(
      `Phase B: ${CALLERS_PER_TICK} callers every ${TICK_MS} ms; the token is refreshed in the background at ${REFRESH_AT * 100}% of its lifetime`,
    );
    {
      const before = timeline.counts();
      let refreshedAt: number | undefined;
      const stats = await callInLoop(tokens, timeline, server.tokenRequests, seenTokens, {
        ...LOAD,
        deadlineMs: TOKEN_TTL_SECONDS * 1_000,
        done: (elapsed) => {
          if (refreshedAt === undefined && timeline.counts().successes > before.successes)
            refreshedAt = elapsed;
          return refreshedAt !== undefined && elapsed - refreshedAt >= 500;
        },
      });
      phases.set('B', stats);
      const after = timeline.counts();
      const proactive = after.coalesced
        .slice(before.coalesced.length)
        .filter((c) => c.reason === 'proactive');
      timeline.note(
        `${stats.served} calls served, ${stats.breakerOpen + stats.otherErrors} failed; get latency ${latency(stats.servedMs)}; callers that waited for the refresh: ${proactive[0]?.waiters ?? 'n/a'}`,
      );
      timeline.note(
        '(the server runs in this process: its work on the event loop is part of the slowest latency)',
      );
      expect(
        'B: one proactive background refresh',
        proactive.length === 1 && proactive[0]?.ok === true,
        JSON.stringify(proactive),
      );
      expect(
        'B: no caller waited for it',
        proactive[0]?.waiters === 0,
        String(proactive[0]?.waiters),
      );
      expect(
        'B: every call served',
        stats.served > 0 && stats.breakerOpen + stats.otherErrors === 0,
        `${stats.breakerOpen + stats.otherErrors} failed`,
      );
      expect(
        'B: one token request reached the server',
        stats.tokenRequests === 1,
        String(stats.tokenRequests),
      );
      expect('B: distinct tokens so far: 2', seenTokens.size === 2, String(seenTokens.size));
    }

    // ------------------------------------------------------------------ phase C
    server.setOutage(true);
    timeline.phase('Phase C: outage, the token endpoint answers 503 from now on');
    {
      const before = timeline.counts();
      let expiredAt: number | undefined;
      const stats = await callInLoop(tokens, timeline, server.tokenRequests, seenTokens, {
        ...LOAD,
        deadlineMs: (TOKEN_TTL_SECONDS + 6) * 1_000,
        done: (elapsed) => {
          if (expiredAt === undefined && tokens.peek() === undefined) {
            expiredAt = elapsed;
            timeline.note('the cached token has expired: nothing valid left to serve');
          }
          return expiredAt !== undefined && elapsed - expiredAt >= FAST_FAIL_WINDOW_MS;
        },
      });
      phases.set('C', stats);
      const after = timeline.counts();
      const failures = after.failures - before.failures;
      timeline.note(
        `${stats.served} calls served from the still-valid token; calls that failed while it was valid: ${stats.errorsWhileValid}`,
      );
      timeline.note(
        `${stats.breakerOpen} calls failed fast with BreakerOpenError (slowest ${stats.maxFastFailMs.toFixed(2)} ms); ${failures} failed mints, ${stats.tokenRequests} token requests reached the server`,
      );
      if (stats.otherErrors > 0) {
        timeline.note(
          `${stats.otherErrors} calls got the mint's own error: ${[...stats.otherErrorMessages].join('; ')}`,
        );
      }
      const decaying =
        failureLifetimes.length >= 2 &&
        failureLifetimes.every((v, i, all) => i === 0 || v < (all[i - 1] as number));
      expect(
        'C: no call failed while a valid token was cached',
        stats.errorsWhileValid === 0,
        String(stats.errorsWhileValid),
      );
      expect('C: the valid token kept being served', stats.served > 0, String(stats.served));
      expect(
        `C: refresh failures reported (>= ${BREAKER.failureThreshold})`,
        failures >= BREAKER.failureThreshold,
        String(failures),
      );
      expect(
        'C: remaining lifetime decays across the failures',
        decaying,
        failureLifetimes.map((v) => v.toFixed(2)).join(', '),
      );
      expect(
        'C: the breaker opened',
        after.breakerTransitions.slice(before.breakerTransitions.length).includes('closed→open'),
        after.breakerTransitions.join(', '),
      );
      expect(
        'C: after expiry callers failed fast with BreakerOpenError',
        stats.breakerOpen > 0,
        String(stats.breakerOpen),
      );
      expect(
        'C: only failed mints reached the server, never a fast failure',
        stats.tokenRequests === failures,
        `${stats.tokenRequests} requests, ${failures} mints`,
      );
    }

    // ------------------------------------------------------------------ phase D
    server.setOutage(false);
    timeline.phase('Phase D: the token endpoint recovers');
    timeline.note(
      `the breaker still waits out its cooldown (probe in ${tokens.snapshot().breaker.retryAfterMs} ms): no stampede`,
    );
    {
      const before = timeline.counts();
      let closedAt: number | undefined;
      const stats = await callInLoop(tokens, timeline, server.tokenRequests, seenTokens, {
        ...LOAD,
        deadlineMs: BREAKER.cooldownMs + 3_000,
        done: (elapsed) => {
          if (closedAt === undefined && timeline.breaker() === 'closed') closedAt = elapsed;
          return closedAt !== undefined && elapsed - closedAt >= 500;
        },
      });
      phases.set('D', stats);
      const after = timeline.counts();
      const transitions = after.breakerTransitions.slice(before.breakerTransitions.length);
      const probe = after.coalesced.slice(before.coalesced.length)[0];
      timeline.note(
        `${stats.breakerOpen} calls failed fast during the cooldown; 1 probe (${probe?.waiters ?? 0} callers waited on it); then ${stats.served} calls served`,
      );
      expect(
        'D: one probe reached the server',
        stats.tokenRequests === 1,
        String(stats.tokenRequests),
      );
      expect(
        'D: breaker open → half-open → closed',
        transitions.join(', ') === 'open→half-open, half-open→closed',
        transitions.join(', '),
      );
      expect('D: callers served again', stats.served > 0, String(stats.served));
      expect(
        'D: no error but BreakerOpenError before the probe',
        stats.otherErrors === 0,
        String(stats.otherErrors),
      );
    }

    tokens.close();
    printSummary(
      phases,
      server.tokenRequests(),
      server.tokensIssued(),
      seenTokens.size,
      performance.now() - startedAt,
    );
  } finally {
    provider?.close();
    await server.close();
  }

  const printed = output.join('\n');
  const leaked = [...seenTokens].some((token) => printed.includes(token));
  expect(
    'the output never contains a token',
    !leaked,
    leaked ? 'a token was printed' : 'none printed',
  );

  const failed = expectations.filter((e) => !e.ok);
  write('');
  write(
    failed.length === 0
      ? `All ${expectations.length} expectations held.`
      : `${failed.length} of ${expectations.length} expectations FAILED:\n${failed.map((e) => `  ✗ ${e.label} (got ${e.actual})`).join('\n')}`,
  );
  return failed.length === 0 ? 0 : 1;
}

function printSummary(
  phases: Map<string, PhaseStats>,
  tokenRequests: number,
  tokensIssued: number,
  distinctTokens: number,
  elapsedMs: number,
): void {
  write('');
  write('Summary');
  write('  phase   served   failed fast   other errors   token requests   served get latency');
  for (const [name, s] of phases) {
    write(
      `  ${name.padEnd(5)} ${String(s.served).padStart(8)} ${String(s.breakerOpen).padStart(13)} ${String(s.otherErrors).padStart(14)} ${String(s.tokenRequests).padStart(16)}   ${latency(s.servedMs)}`,
    );
  }
  write(
    `  token requests reaching the server: ${tokenRequests} (${tokensIssued} tokens issued, ${tokenRequests - tokensIssued} answered 503); distinct tokens served: ${distinctTokens}; ran ${(elapsedMs / 1000).toFixed(1)} s`,
  );
}

const watchdog = setTimeout(() => {
  process.stderr.write(
    `demo: still running after ${HARD_LIMIT_MS / 1000} s (a dangling handle?)\n`,
  );
  process.exit(1);
}, HARD_LIMIT_MS);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
