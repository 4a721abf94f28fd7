package forward

import "github.com/redis/go-redis/v9"

// The fleet's scripts (fleet.go). Each runs atomically in the store, so
// replicas never read a count in Go and write it back: what one script
// decides, no other replica's command can come between.
//
// A bucket's picture is a hash: limit, remaining and reset as Okta last
// reported them to any replica (the most recent window, and in one window
// the lowest remaining), and spent, the calls the fleet admitted against
// it that Okta's remaining does not show yet. The calls in flight are a
// sorted set of leases scored by when they expire (the store's clock), so
// that a replica that dies holding some frees them by itself.

// takeScript takes a place under the fleet's cap for one attempt and counts
// it against its bucket, unless the bucket is down to the share kept for
// people: then it takes nothing.
//
// KEYS: the leases, the bucket. ARGV: cap, lease ms, lease id, caller's
// clock (ms, compared with Okta's reset), reserve share.
// Returns {0} when the fleet is at its cap, {1} when the place is taken
// (with the picture it was counted against, if any), {2, picture} when the
// bucket is held.
var takeScript = redis.NewScript(`
local b = redis.call('HMGET', KEYS[2], 'limit', 'remaining', 'reset', 'spent')
local limit, rem, reset = tonumber(b[1]), tonumber(b[2]), tonumber(b[3])
local spent = tonumber(b[4]) or 0
local share = tonumber(ARGV[5])
local counted = limit ~= nil and rem ~= nil and reset ~= nil and share > 0 and reset * 1000 > tonumber(ARGV[4])
if counted and rem - spent <= math.ceil(limit * share) then
  return {2, limit, rem, reset, spent}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return {0}
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if counted then
  spent = redis.call('HINCRBY', KEYS[2], 'spent', 1)
  return {1, limit, rem, reset, spent}
end
return {1}
`)

// finishScript gives a lease back and says what came of the attempt, in
// one round trip: mode "p" publishes Okta's headers, "u" takes back a count
// Okta did not spend (its concurrent limit refused the request), "" only
// releases.
//
// A published picture replaces the stored one when its window is newer
// (spent starts again at 0), or in the same window when it shows fewer
// remaining: the calls that drop shows are no longer pending, so spent
// falls by as much. An older or higher picture is a late answer and is
// dropped. The hash expires a minute after the window resets (at most an
// hour and a minute from now, whatever the reset says).
//
// KEYS: the leases, the bucket. ARGV: lease id ("" for none), mode, limit,
// remaining, reset.
var finishScript = redis.NewScript(`
if ARGV[1] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
if ARGV[2] == 'u' then
  -- HGET, never HINCRBY, to look: a missing bucket must not be created
  -- without its expiry.
  if (tonumber(redis.call('HGET', KEYS[2], 'spent') or '0') or 0) > 0 then
    redis.call('HINCRBY', KEYS[2], 'spent', -1)
  end
  return 1
end
if ARGV[2] ~= 'p' then
  return 0
end
local limit, rem, reset = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local cur = redis.call('HMGET', KEYS[2], 'remaining', 'reset', 'spent')
local cRem, cReset = tonumber(cur[1]), tonumber(cur[2])
local spent = 0
if cRem ~= nil and cReset ~= nil then
  if reset < cReset or (reset == cReset and rem >= cRem) then
    return 0
  end
  if reset == cReset then
    spent = math.max(0, (tonumber(cur[3]) or 0) - (cRem - rem))
  end
end
redis.call('HSET', KEYS[2], 'limit', limit, 'remaining', rem, 'reset', reset, 'spent', spent)
local now = tonumber(redis.call('TIME')[1])
redis.call('EXPIRE', KEYS[2], math.min(math.max(reset - now, 0), 3600) + 60)
return 1
`)
