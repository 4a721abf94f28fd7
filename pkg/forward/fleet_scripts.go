package forward

import "github.com/redis/go-redis/v9"

// The fleet's script (fleet.go). It runs atomically in the store, so
// replicas never read a picture in Go and write it back: what one sync
// decides, no other replica's command can come between.
//
// The fleet's members are a sorted set of replica ids scored by when
// their heartbeat expires (the store's clock), so that a replica that dies
// leaves the fleet by itself. The rate-limit picture is one hash, a field
// per bucket: "limit remaining reset" as Okta last reported them to any
// replica (the newest window, and in one window the lowest remaining).
// Both keys carry one hash tag, so a Redis Cluster keeps them in one slot.

// syncScript is a replica's whole sync, one round trip: it renews the
// replica's heartbeat, merges the pictures it publishes into the fleet's,
// drops the windows that ended more than a minute ago, and returns the
// live replicas, this one's rank among them (by id, the same order on
// every replica) and the fleet's picture.
//
// A published picture replaces the stored one when its window is newer, or
// in the same window when it shows fewer remaining; an older or higher one
// is a late answer and is dropped. Publishing the same picture twice
// therefore changes nothing: a sync whose answer was lost can be sent again.
//
// KEYS: the members, the picture. ARGV: replica id, heartbeat ms, then
// pairs of bucket and "limit remaining reset" (decimal integers, checked
// by the caller).
// Returns {live replicas, rank, {bucket, "limit remaining reset", ...}}.
var syncScript = redis.NewScript(`
local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(ids)
local rank = 0
for i, id in ipairs(ids) do
  if id == ARGV[1] then rank = i - 1 end
end
local function parse(v)
  local l, r, s = string.match(v or '', '^(%d+) (%d+) (%d+)$')
  return tonumber(l), tonumber(r), tonumber(s)
end
for i = 3, #ARGV - 1, 2 do
  local _, rem, reset = parse(ARGV[i + 1])
  if reset ~= nil then
    local _, cRem, cReset = parse(redis.call('HGET', KEYS[2], ARGV[i]))
    if cReset == nil or reset > cReset or (reset == cReset and rem < cRem) then
      redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    end
  end
end
local all = redis.call('HGETALL', KEYS[2])
local out, last = {}, 0
for i = 1, #all, 2 do
  local _, _, reset = parse(all[i + 1])
  if reset == nil or reset + 60 < sec then
    redis.call('HDEL', KEYS[2], all[i])
  else
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
    last = math.max(last, reset)
  end
end
if #out > 0 then
  redis.call('EXPIRE', KEYS[2], math.min(math.max(last - sec, 0), 3600) + 60)
end
return {#ids, rank, out}
`)
