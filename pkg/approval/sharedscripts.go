package approval

import (
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The scripts of the shared store. Each change to an approval is one of
// them, so that every rule is applied to the state it changes, whichever
// replica runs it: no replica reads an approval and writes it back.
//
// An approval is a hash (entryKey). What the scripts read of it:
//
//	st      state (1 pending, 2 approved, 3 denied, 4 expired, 5 used)
//	ex, fg  its expiry, and when it is forgotten (expiry + keepFinal),
//	        Unix µs, exact in Lua's doubles
//	id, pk  its id, and the key of its agent's pending set
//	ag, b   its agent (hex) and binding hash, for Redeem
//	rule    who may vote: the requirement's sets, the approvals needed,
//	        the agent, the person it acts for and the users the call
//	        changes, as JSON whose strings are hex (see ruleOf)
//	n, na   the votes cast, the approvals among them
//	sI, fI  vote I's subject (hex) and folded email (hexFold)
//	uI      vote I's Okta user id (hex)
//
// and what only Go reads: req (the request as JSON), cr (created, µs), vI
// (vote I as JSON). Times are the caller's (the replica's clock, or the
// test's), as in one process. Numbers reach Redis as the strings Go wrote:
// Lua prints large numbers in exponent form.

// changesLen bounds the change stream: a reader needs only to learn that
// something changed since the entry it read last.
const changesLen = 64

// luaCommon is the start of every script: changed(id) appends to the
// change stream (KEYS[3] of every script but create's, whose is KEYS[5])
// and renews its TTL; load(key, pending, now) finds an approval, forgets
// it when its time to be kept is over (false), and expires it when due.
var luaCommon = `
local function changed(stream, id)
  redis.call('XADD', stream, 'MAXLEN', ` + strconv.Itoa(changesLen) + `, '*', 'a', id)
  redis.call('PEXPIRE', stream, ` + strconv.FormatInt(keepFinal.Milliseconds(), 10) + `)
end
local function load(key, pending, stream, now)
  local f = redis.call('HMGET', key, 'st', 'ex', 'fg', 'id', 'pk')
  if not f[1] then return false end
  local st = tonumber(f[1])
  if now > tonumber(f[3]) then
    redis.call('DEL', key)
    redis.call('ZREM', pending, f[4])
    redis.call('ZREM', f[5], f[4])
    return false
  end
  if (st == 1 or st == 2) and now >= tonumber(f[2]) then
    redis.call('HSET', key, 'st', 4)
    if st == 1 then
      redis.call('ZREM', pending, f[4])
      redis.call('ZREM', f[5], f[4])
    end
    changed(stream, f[4])
  end
  return true
end
local function answer(key, code, st)
  return {code, st or 0, redis.call('HGETALL', key)}
end
`

// luaExtend sets a sorted set's TTL to its highest score (Unix µs) from
// now, so that it outlives every member's reason to be in it.
var luaExtend = `
local function extend(key, now)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIRE', key, math.max(1, math.ceil((tonumber(top[2]) - now) / 1000)))
  end
end
`

// createScript records a pending approval if the fleet and its agent are
// under their limits: pending approvals past their expiry no longer count.
// KEYS: entry, all, pending, agent's pending, changes. ARGV: now µs,
// expires µs, forget µs, entry TTL ms, max pending, max per agent, id,
// then the entry's fields and values. Returns 1, 0 when full, -1 when the
// id is taken.
var createScript = redis.NewScript(luaCommon + luaExtend + `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) or redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[6]) then
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[7])
extend(KEYS[2], now)
extend(KEYS[3], now)
extend(KEYS[4], now)
changed(KEYS[5], ARGV[7])
return 1
`)

// getScript reads an approval, expiring it when due. KEYS: entry,
// pending, changes. ARGV: now µs. Returns {code, 0, fields}: code "ok" or
// "notfound".
var getScript = redis.NewScript(luaCommon + `
if not load(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1])) then return {'notfound', 0, {}} end
return answer(KEYS[1], 'ok')
`)

// voteScript is Store.vote: every refusal of Check, in its order, against
// the approval as it stands, then the vote recorded (unless dry, which
// is Check). It mirrors refuseLocked and Requirement.Qualifies: a string
// compared exactly there is compared as hex here, one compared with
// strings.EqualFold as hexFold, which is equal exactly when EqualFold is.
// Whether the person is an agent identity is the sidecar's knowledge, so
// it comes from the caller.
// KEYS: entry, pending, changes. ARGV: now µs, dry (1/0), is an agent
// (1/0), subject (hex), email (hexFold), groups (a JSON array of hex),
// approve (1/0), the vote as JSON, subject (hexFold), Okta user id (hex). Returns {code, state, fields}: the
// fields as the approval stands after the script, the state the vote
// leaves (which a dry run did not write).
var voteScript = redis.NewScript(luaCommon + `
if not load(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1])) then return {'notfound', 0, {}} end
if ARGV[3] == '1' then return answer(KEYS[1], 'agent') end
local rule = cjson.decode(redis.call('HGET', KEYS[1], 'rule'))
local subj, email = ARGV[4], ARGV[5]
local groups = {}
for _, g in ipairs(cjson.decode(ARGV[6])) do groups[g] = true end
local function has(set)
  for i, u in ipairs(set.u) do
    if (email ~= '' and set.uf[i] == email) or u == subj then return true end
  end
  for _, g in ipairs(set.g) do
    if groups[g] then return true end
  end
  return false
end
local qualifies = #rule.sets > 0
for _, set in ipairs(rule.sets) do
  if not has(set) then qualifies = false break end
end
if not qualifies then return answer(KEYS[1], 'notapprover') end
-- Person.is: a name is the person's when it is their subject or user id
-- exactly, or their subject or email in any case.
local subjf, uid = ARGV[9], ARGV[10]
local function is(name, namef)
  if name == '' then return false end
  return name == subj or (uid ~= '' and name == uid) or namef == subjf or (email ~= '' and namef == email)
end
local self = subj == rule.ag or (rule.ob ~= '' and is(rule.ob, rule.obf))
for i, c in ipairs(rule.c) do
  if is(c, rule.cf[i]) then self = true end
end
if self then return answer(KEYS[1], 'self') end
local f = redis.call('HMGET', KEYS[1], 'st', 'n', 'na', 'id', 'pk')
if tonumber(f[1]) ~= 1 then return answer(KEYS[1], 'notpending') end
local n = tonumber(f[2])
for i = 1, n do
  local v = redis.call('HMGET', KEYS[1], 's' .. i, 'f' .. i, 'u' .. i)
  if v[1] == subj or (email ~= '' and v[2] == email) or (uid ~= '' and v[3] == uid) then return answer(KEYS[1], 'voted') end
end
local na = tonumber(f[3])
local st = 1
if ARGV[7] ~= '1' then
  st = 3
else
  na = na + 1
  if na >= rule.n then st = 2 end
end
if ARGV[2] == '1' then return answer(KEYS[1], 'ok', st) end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 'na', na, 'st', st, 'v' .. n, ARGV[8], 's' .. n, subj, 'f' .. n, email, 'u' .. n, uid)
if st ~= 1 then
  redis.call('ZREM', KEYS[2], f[4])
  redis.call('ZREM', f[5], f[4])
end
changed(KEYS[3], f[4])
return answer(KEYS[1], 'ok', st)
`)

// redeemScript is Store.Redeem: an approved approval of this agent, for
// this exact call, becomes used, once. KEYS: entry, pending, changes.
// ARGV: now µs, agent (hex), binding hash. Returns {code, 0, fields};
// "notfound" carries no fields (another agent's approval is unknown).
var redeemScript = redis.NewScript(luaCommon + `
if not load(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1])) then return {'notfound', 0, {}} end
local f = redis.call('HMGET', KEYS[1], 'st', 'ag', 'b', 'id')
if f[2] ~= ARGV[2] then return {'notfound', 0, {}} end
local st = tonumber(f[1])
if st == 1 or st == 3 then return answer(KEYS[1], 'notapproved') end
if st ~= 2 then return answer(KEYS[1], 'notpending') end
if f[3] ~= ARGV[3] then return answer(KEYS[1], 'mismatch') end
redis.call('HSET', KEYS[1], 'st', 5)
changed(KEYS[3], f[4])
return answer(KEYS[1], 'ok')
`)

// expireScript applies expiry to the approvals a listing found due, and
// returns each one's state after it (0 when gone). KEYS: pending, changes,
// then the entries. ARGV: now µs.
var expireScript = redis.NewScript(luaCommon + `
local now, out = tonumber(ARGV[1]), {}
for i = 3, #KEYS do
  if load(KEYS[i], KEYS[1], KEYS[2], now) then
    out[#out + 1] = tonumber(redis.call('HGET', KEYS[i], 'st'))
  else
    out[#out + 1] = 0
  end
end
return out
`)
