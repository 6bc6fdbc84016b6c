//! What the nodes share in Redis, and the scripts that change it atomically.
//!
//! - `mc:room:<room>`: hash peer -> node, the room's members on every node (the room cap is its length).
//! - `mc:peers:<node>`: hash peer -> room, one node's peers (so a dead node's peers can be announced).
//! - `mc:alive:<node>`: exists while the node beats (expires after [`super::PRESENCE_TTL`]).
//! - `mc:nodes`: set of the nodes that may hold peers.
//! - channel `mc:ch:<room>`: every membership change and signal of the room, in one order for all.
//!
//! Events are the JSON of [`super::Event`]; the scripts write the two membership kinds themselves.
//! Peer and node ids are UUIDs, so they need no escaping inside JSON.

use redis::Script;

pub const NODES: &str = "mc:nodes";

pub fn room_key(room: &str) -> String {
    format!("mc:room:{room}")
}

pub fn peers_key(node: &str) -> String {
    format!("mc:peers:{node}")
}

pub fn alive_key(node: &str) -> String {
    format!("mc:alive:{node}")
}

pub const CHANNEL_PREFIX: &str = "mc:ch:";

pub fn channel(room: &str) -> String {
    format!("{CHANNEL_PREFIX}{room}")
}

/// Shared by the scripts: the event JSON, as `serde_json` writes [`super::Event`].
const EVENTS: &str = r#"
local function event(kind, peer, node)
  return '{"' .. kind .. '":{"peer":"' .. peer .. '","node":"' .. node .. '"}}'
end
local function leave(room, peer, node)
  if redis.call('HDEL', 'mc:room:' .. room, peer) == 1 then
    redis.call('PUBLISH', 'mc:ch:' .. room, event('Left', peer, node))
  end
end
"#;

/// KEYS: room hash, the node's peers hash, the node's alive key.
/// ARGV: peer, node, max peers, room, presence TTL in ms.
/// Returns the peers now in the room, or -1 if it is full. Check, insert and announce are one step,
/// so joins racing on several nodes never overshoot the cap.
pub fn join() -> Script {
    Script::new(&format!(
        "{EVENTS}
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
redis.call('SADD', '{NODES}', ARGV[2])
redis.call('PUBLISH', 'mc:ch:' .. ARGV[4], event('Joined', ARGV[1], ARGV[2]))
return redis.call('HLEN', KEYS[1])"
    ))
}

/// The `EVAL` of a leave, for the publisher's pipeline (after the peer's last signals).
/// Announces `Left` only if the peer was still a member (a reaper may have been first).
pub fn leave_cmd(node: &str, room: &str, peer: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(format!(
        "{EVENTS}
redis.call('HDEL', KEYS[1], ARGV[1])
leave(ARGV[2], ARGV[1], ARGV[3])
return 0"
    ))
    .arg(1)
    .arg(peers_key(node))
    .arg(peer)
    .arg(room)
    .arg(node);
    cmd
}

/// ARGV: a node. If its alive key has expired, every peer it held leaves (announced as `Left`) and
/// the node is forgotten. Returns how many peers were announced. Atomic, so of all the nodes
/// that sweep at once exactly one announces each peer.
pub fn reap() -> Script {
    Script::new(&format!(
        "{EVENTS}
local node = ARGV[1]
if redis.call('EXISTS', 'mc:alive:' .. node) == 1 then return 0 end
local held = redis.call('HGETALL', 'mc:peers:' .. node)
for i = 1, #held, 2 do leave(held[i + 1], held[i], node) end
redis.call('DEL', 'mc:peers:' .. node)
redis.call('SREM', '{NODES}', node)
return #held / 2"
    ))
}

/// ARGV: node, announce ('1' or '0'), then room and peer pairs: the peers this node really holds.
/// Members Redis lists for the node but it no longer holds leave (announced); members it holds but
/// Redis lost (a Redis restart, or a reaper that took the node for dead) are put back, and
/// announced as `Joined` only if `announce` (the others were told they left).
pub fn reconcile() -> Script {
    Script::new(&format!(
        "{EVENTS}
local node = ARGV[1]
local announce = ARGV[2] == '1'
local key = 'mc:peers:' .. node
local want = {{}}
for i = 3, #ARGV, 2 do want[ARGV[i + 1]] = ARGV[i] end
local held = redis.call('HGETALL', key)
for i = 1, #held, 2 do
  if want[held[i]] == nil then
    redis.call('HDEL', key, held[i])
    leave(held[i + 1], held[i], node)
  end
end
for peer, room in pairs(want) do
  redis.call('HSET', key, peer, room)
  if redis.call('HSETNX', 'mc:room:' .. room, peer, node) == 1 and announce then
    redis.call('PUBLISH', 'mc:ch:' .. room, event('Joined', peer, node))
  end
end
redis.call('SADD', '{NODES}', node)
return 0"
    ))
}

/// ARGV: node. Takes the node's members out of Redis without announcing them, and the node out of
/// the cluster: a graceful shutdown whose clients come back through other nodes (and rebind their
/// calls), so nobody should see them leave.
pub fn hand_over() -> Script {
    Script::new(&format!(
        "local node = ARGV[1]
local held = redis.call('HGETALL', 'mc:peers:' .. node)
for i = 1, #held, 2 do redis.call('HDEL', 'mc:room:' .. held[i + 1], held[i]) end
redis.call('DEL', 'mc:peers:' .. node, 'mc:alive:' .. node)
redis.call('SREM', '{NODES}', node)
return #held / 2"
    ))
}
