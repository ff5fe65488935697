/**
 * The protocol's atomic steps as Lua scripts, each run with EVALSHA (EVAL on NOSCRIPT). Every
 * script reads the server's clock with TIME, so freshness and lease expiry never depend on an
 * instance's clock. All keys of one credential share a hash tag, so each script touches one
 * Redis Cluster slot.
 *
 * Keys: KEYS[1] the credential hash (id, exp, due, gen, kid, val, at), KEYS[2] the lease (a
 * token string with PX), KEYS[3] the failure record hash (retryAt, failures, f1, f2, kid, err)
 * with PX. Times are epoch milliseconds on the server's clock; `inf` means never.
 *
 * Keys are shared state that someone else may have written: every script first deletes a key
 * of the wrong type (a string at the credential's hash, say), so one bad key is repaired by
 * the next operation instead of failing every one with WRONGTYPE.
 */

/** How long a credential without an expiry stays in Redis, in milliseconds (one day). */
export const NO_EXPIRY_TTL_MS = 86_400_000;

/** Deletes a key whose type is not `want` (a repair; none of ours is ever of another type). */
const REPAIR = `
local function fix(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= want then redis.call('DEL', key) end
end
`;

const PRELUDE = `${REPAIR}
fix(KEYS[1], 'hash')
fix(KEYS[2], 'string')
fix(KEYS[3], 'hash')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowS = string.format('%.0f', now)
local function upto(v)
  if v == 'inf' then return math.huge end
  return tonumber(v) or 0
end
`;

/**
 * load-or-lease. ARGV: token, leaseMs, instanceId, maxFailureWindowMs, ignoreFailure ('1' to
 * skip the failure record), excluded ids... A stored credential that is past its due point but
 * still valid is answered instead of a failure window or another's lease (never instead of
 * taking a free lease). A failure window ending later than `now + maxFailureWindowMs` (or
 * never) is capped there, in the record too; a lease without a TTL is treated as expired
 * (Sluice always sets one) and replaced.
 * Returns {'value', now, id, exp, due, gen, kid, val} | {'failed', now, retryAt, failures,
 * kid, err} | {'leased', now, pttl} | {'lease', now, storedId}.
 */
export const LOAD_OR_LEASE = `${PRELUDE}
local c = redis.call('HMGET', KEYS[1], 'id', 'exp', 'due', 'gen', 'kid', 'val')
local usable = false
if c[1] then
  local excluded = false
  for i = 6, #ARGV do
    if ARGV[i] == c[1] then excluded = true end
  end
  usable = not excluded and now < upto(c[2])
  if usable and now < upto(c[3]) then
    return {'value', nowS, c[1], c[2], c[3], c[4] or '0', c[5] or '', c[6] or ''}
  end
end
-- Past its due point but still valid: better than a failure or a wait, never better than a mint.
local function due()
  return {'value', nowS, c[1], c[2], c[3], c[4] or '0', c[5] or '', c[6] or ''}
end
local f = redis.call('HMGET', KEYS[3], 'retryAt', 'failures', 'f1', 'f2', 'kid', 'err')
if f[1] and ARGV[5] ~= '1' then
  local retryAt = upto(f[1])
  local cap = now + tonumber(ARGV[4])
  if retryAt ~= retryAt or retryAt > cap then
    retryAt = cap
    f[1] = string.format('%.0f', cap)
    redis.call('HSET', KEYS[3], 'retryAt', f[1])
    if redis.call('PTTL', KEYS[3]) < 0 then
      redis.call('PEXPIRE', KEYS[3], string.format('%.0f', tonumber(ARGV[4]) * 2))
    end
  end
  if now < retryAt and (f[4] or f[3] == ARGV[3]) then
    if usable then return due() end
    return {'failed', nowS, f[1], f[2] or '1', f[5] or '', f[6] or ''}
  end
end
if redis.call('PTTL', KEYS[2]) == -1 then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if usable then return due() end
  return {'leased', nowS, tostring(redis.call('PTTL', KEYS[2]))}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'lease', nowS, c[1] or ''}
`;

/** Renew: ARGV token, leaseMs. Returns 1 when the token still held the lease. */
export const RENEW = `${REPAIR}
fix(KEYS[2], 'string')
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
`;

/**
 * Compare-and-set store, compare-and-delete release, publish.
 * ARGV: token, id, exp, due, gen, kid, val, channel, message, replaceable ids...
 * Returns {'stored', now} | {'refused' | 'expired', now, id, exp, due, gen, kid, val}.
 */
export const STORE = `${PRELUDE}
local exp = upto(ARGV[3])
local outcome = 'refused'
if exp <= now then
  outcome = 'expired'
else
  local cur = redis.call('HMGET', KEYS[1], 'id', 'exp')
  local ok = not cur[1]
  if not ok and exp > upto(cur[2]) then ok = true end
  if not ok then
    for i = 10, #ARGV do
      if ARGV[i] == cur[1] then ok = true end
    end
  end
  if ok then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], 'id', ARGV[2], 'exp', ARGV[3], 'due', ARGV[4], 'gen', ARGV[5],
      'kid', ARGV[6], 'val', ARGV[7], 'at', nowS)
    if exp ~= math.huge then
      redis.call('PEXPIREAT', KEYS[1], ARGV[3])
    else
      redis.call('PEXPIRE', KEYS[1], '${NO_EXPIRY_TTL_MS}')
    end
    redis.call('DEL', KEYS[3])
    outcome = 'stored'
  end
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[8], ARGV[9])
if outcome == 'stored' then return {outcome, nowS} end
local c = redis.call('HMGET', KEYS[1], 'id', 'exp', 'due', 'gen', 'kid', 'val')
if not c[1] then return {outcome, nowS} end
return {outcome, nowS, c[1], c[2] or '0', c[3] or '0', c[4] or '0', c[5] or '', c[6] or ''}
`;

/**
 * Records a failed mint unless a fresh credential was stored since the lease was taken;
 * releases the lease; publishes. Under encryption (a key id in ARGV) a previous record in
 * clear is discarded, so a planted count or planted failing instances never confirm a window.
 * ARGV: token, instanceId, seenId, kid, err, initialMs, maxMs, sample, stickyMs, channel, message.
 * Returns {'recorded', now, retryAt, failures, confirmed (1|0)} | {'superseded', now}.
 */
export const FAIL = `${PRELUDE}
local cur = redis.call('HMGET', KEYS[1], 'id', 'due')
local result
if cur[1] and cur[1] ~= ARGV[3] and now < upto(cur[2]) then
  result = {'superseded', nowS}
else
  local f = redis.call('HMGET', KEYS[3], 'failures', 'f1', 'f2', 'kid')
  if ARGV[4] ~= '' and (not f[4] or f[4] == '') then
    -- Encryption is on and the record is in clear: planted, so nothing in it counts.
    redis.call('DEL', KEYS[3])
    f = {false, false, false, false}
  end
  local n = (tonumber(f[1]) or 0) + 1
  local window = math.min(tonumber(ARGV[7]), tonumber(ARGV[6]) * math.pow(2, math.min(n - 1, 60)))
  window = math.max(1, math.floor(window * (1 - 0.2 * tonumber(ARGV[8]))))
  local f1, f2 = f[2], f[3]
  if not f1 then
    f1 = ARGV[2]
  elseif f1 ~= ARGV[2] and not f2 then
    f2 = ARGV[2]
  end
  local retryAt = string.format('%.0f', now + window)
  redis.call('HSET', KEYS[3], 'retryAt', retryAt, 'failures', tostring(n), 'f1', f1,
    'kid', ARGV[4], 'err', ARGV[5])
  if f2 then redis.call('HSET', KEYS[3], 'f2', f2) end
  redis.call('PEXPIRE', KEYS[3], string.format('%.0f', window + tonumber(ARGV[9])))
  local confirmed = '0'
  if f2 then confirmed = '1' end
  result = {'recorded', nowS, retryAt, tostring(n), confirmed}
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[10], ARGV[11])
return result
`;

/** Compare-and-delete release, then publish. ARGV: token, channel, message. Returns 1 | 0. */
export const RELEASE = `${REPAIR}
fix(KEYS[2], 'string')
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`;
