//! The Lua scripts that change room membership in Redis. Each runs atomically, so a room's capacity is
//! exact however many nodes race to fill it, and the events they publish are in one order for everyone.
//!
//! Keys (`{k}` a room's canonical code, `{n}` a node's id):
//! - `kaiwa:seq`: the membership sequence, one counter for every room;
//! - `kaiwa:room:{k}`: hash with `shown`, the code as the room's creator typed it, and `sfu` (`1`) once the
//!   room goes through the SFU;
//! - `kaiwa:room:{k}:plain`: set of the participants who cannot take part through the SFU;
//! - `kaiwa:room:{k}:order`: sorted set of participant ids by the sequence number of their join;
//! - `kaiwa:room:{k}:info`: hash id → `"{n} {peer JSON}"`, the participant and the node it is on;
//! - `kaiwa:node:{n}:members`: set of `"{k} {id}"`, every participant on that node;
//! - `kaiwa:alive:{n}`: the node's lease, a key that expires unless the node renews it;
//! - `kaiwa:nodes`: set of every node that registered.
//!
//! Events go to `kaiwa:to:{n}` of every node with a participant in the room (`super::wire` reads them).

use redis::Script;

/// Shared by the scripts below: removes one participant, tells the nodes of the rest, and forgets the room
/// once it is empty. Returns 1 if the participant was there.
const LEAVE_FN: &str = r#"
local function leave(k, id)
  local info = 'kaiwa:room:' .. k .. ':info'
  local v = redis.call('HGET', info, id)
  if not v then return 0 end
  local owner = string.sub(v, 1, string.find(v, ' ', 1, true) - 1)
  local order = 'kaiwa:room:' .. k .. ':order'
  redis.call('ZREM', order, id)
  redis.call('HDEL', info, id)
  redis.call('SREM', 'kaiwa:node:' .. owner .. ':members', k .. ' ' .. id)
  redis.call('SREM', 'kaiwa:room:' .. k .. ':plain', id)
  if redis.call('ZCARD', order) == 0 then
    redis.call('DEL', 'kaiwa:room:' .. k, order, info, 'kaiwa:room:' .. k .. ':plain')
    return 1
  end
  local seq = redis.call('INCR', 'kaiwa:seq')
  local nodes = {}
  for _, rest in ipairs(redis.call('HVALS', info)) do
    nodes[string.sub(rest, 1, string.find(rest, ' ', 1, true) - 1)] = true
  end
  for n in pairs(nodes) do
    redis.call('PUBLISH', 'kaiwa:to:' .. n, 'L ' .. seq .. ' ' .. k .. ' ' .. id)
  end
  return 1
end

local function forget(n)
  local members = 'kaiwa:node:' .. n .. ':members'
  local gone = 0
  for _, entry in ipairs(redis.call('SMEMBERS', members)) do
    local sp = string.find(entry, ' ', 1, true)
    gone = gone + leave(string.sub(entry, 1, sp - 1), string.sub(entry, sp + 1))
  end
  redis.call('DEL', members)
  return gone
end
"#;

/// ARGV: room key, shown code, id, peer JSON, node, capacity, whether the newcomer can take part through
/// the SFU (`1`/`0`), the mesh limit past which a room moves to the SFU (`-1`: this server has none).
/// The decision is `Rooms::join`'s: a room past the mesh limit moves to the SFU if everyone in it (and the
/// newcomer) can; otherwise it is full for a mesh.
/// Returns `{"gone"}` when this node's lease has lapsed, `{"full", "capacity" | "mesh"}`, or
/// `{"ok", seq, shown code, sfu, moved, "{node} {peer JSON}" of each participant already there in join
/// order...}`, `sfu` and `moved` (`1`/`0`) saying whether the room goes through the SFU and whether this
/// join moved it there. A move is published as `M {seq} {k} {id}` to every node of the room.
const JOIN: &str = r#"
local k, shown, id, peer, n, cap = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local capable, above = ARGV[7] == '1', tonumber(ARGV[8])
if redis.call('EXISTS', 'kaiwa:alive:' .. n) == 0 then return {'gone'} end
local room, order, info = 'kaiwa:room:' .. k, 'kaiwa:room:' .. k .. ':order', 'kaiwa:room:' .. k .. ':info'
local plain = 'kaiwa:room:' .. k .. ':plain'
local count = redis.call('ZCARD', order)
if count >= cap then return {'full', 'capacity'} end
local sfu = redis.call('HGET', room, 'sfu') == '1'
local mesh_limit = cap
if above >= 0 then mesh_limit = above end
local moves = above >= 0 and not sfu and count >= mesh_limit and capable and redis.call('SCARD', plain) == 0
-- (A node without an SFU cannot serve a room that went through one: it is full for it, as for a client.)
if (count >= mesh_limit and not sfu and not moves) or (sfu and (not capable or above < 0)) then
  return {'full', 'mesh'}
end
redis.call('HSETNX', room, 'shown', shown)
shown = redis.call('HGET', room, 'shown')
if moves then redis.call('HSET', room, 'sfu', '1') end
local seq = redis.call('INCR', 'kaiwa:seq')
local out = {'ok', tostring(seq), shown, (sfu or moves) and '1' or '0', moves and '1' or '0'}
local nodes = {[n] = true}
for _, other in ipairs(redis.call('ZRANGE', order, 0, -1)) do
  local v = redis.call('HGET', info, other)
  nodes[string.sub(v, 1, string.find(v, ' ', 1, true) - 1)] = true
  table.insert(out, v)
end
redis.call('ZADD', order, seq, id)
redis.call('HSET', info, id, n .. ' ' .. peer)
if not capable then redis.call('SADD', plain, id) end
redis.call('SADD', 'kaiwa:node:' .. n .. ':members', k .. ' ' .. id)
for node in pairs(nodes) do
  redis.call('PUBLISH', 'kaiwa:to:' .. node, 'J ' .. seq .. ' ' .. k .. ' ' .. n .. ' ' .. peer)
  if moves then redis.call('PUBLISH', 'kaiwa:to:' .. node, 'M ' .. seq .. ' ' .. k .. ' ' .. id) end
end
return out
"#;

/// ARGV: room key, id. Returns 1 if the participant was there, 2 if it was the last one (the room is gone).
const LEAVE: &str = r#"
local left = leave(ARGV[1], ARGV[2])
if left == 1 and redis.call('EXISTS', 'kaiwa:room:' .. ARGV[1] .. ':order') == 0 then return 2 end
return left
"#;

/// ARGV: node, lease in ms. Forgets whatever an earlier life of this node left behind, then takes the lease.
const REGISTER: &str = r#"
local n = ARGV[1]
local gone = forget(n)
redis.call('SET', 'kaiwa:alive:' .. n, '1', 'PX', ARGV[2])
redis.call('SADD', 'kaiwa:nodes', n)
return gone
"#;

/// ARGV: node. Gives up the lease and takes the node's participants out of their rooms (a clean shutdown).
const DEREGISTER: &str = r#"
local n = ARGV[1]
local gone = forget(n)
redis.call('DEL', 'kaiwa:alive:' .. n)
redis.call('SREM', 'kaiwa:nodes', n)
return gone
"#;

/// No ARGV. Takes the participants of every node whose lease lapsed out of their rooms. Returns how many.
const REAP: &str = r#"
local gone = 0
for _, n in ipairs(redis.call('SMEMBERS', 'kaiwa:nodes')) do
  if redis.call('EXISTS', 'kaiwa:alive:' .. n) == 0 then
    gone = gone + forget(n)
    redis.call('SREM', 'kaiwa:nodes', n)
  end
end
return gone
"#;

/// The scripts, hashed once (`Script` sends EVALSHA and loads the script on NOSCRIPT, as after a Redis
/// restart).
pub struct Scripts {
    pub join: Script,
    pub leave: Script,
    pub register: Script,
    pub deregister: Script,
    pub reap: Script,
}

impl Scripts {
    pub fn new() -> Self {
        let with_leave = |body: &str| Script::new(&format!("{LEAVE_FN}\n{body}"));
        Scripts {
            join: Script::new(JOIN),
            leave: with_leave(LEAVE),
            register: with_leave(REGISTER),
            deregister: with_leave(DEREGISTER),
            reap: with_leave(REAP),
        }
    }
}
