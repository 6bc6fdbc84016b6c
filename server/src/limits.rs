//! Every limit of the server as a named constant, in one place, with its outcome in the comment.
//! Those an operator would tune are defaults of [`crate::Limits`] and have a flag; the rest are fixed.

use std::time::Duration;

/// Largest text message a client may send; a larger one closes its socket with 1009.
/// An offer of a 12-peer mesh with simulcast stays well under 16 KiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Peers in one room; the next one is closed with 4001 (`ROOM_FULL`). A full mesh of 12 means
/// 11 uplinks per browser, about what a laptop's upload and encoder carry.
pub const DEFAULT_MAX_PEERS_PER_ROOM: usize = 12;

/// WebSockets held by the whole server; the next one is closed with 4002 (`SERVER_FULL`).
/// Each costs one file descriptor and a few KiB.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Token bucket of inbound frames per socket: `RATE_BURST` frames at once, refilled at
/// `RATE_PER_SEC`. A socket that runs it dry is closed with 4003 (`RATE_LIMITED`).
/// Sized for the worst honest burst: joining a full room means an offer or answer plus up to
/// ~20 trickled candidates for each of 11 peers (~230 frames in a second or two); a flood of
/// thousands per second runs dry within a fraction of a second.
pub const DEFAULT_RATE_BURST: u32 = 300;
pub const DEFAULT_RATE_PER_SEC: u32 = 60;

/// Messages waiting to be written to one socket; senders never wait for it. Each other peer of the
/// room may hold at most its share of it (`outbound_queue / max_peers_per_room`, 85 by default: four
/// whole join bursts of an answer and 20 candidates, so an honest sender that outpaces the socket
/// task for a moment loses nothing); what a sender sends beyond its share is dropped, so a flooder
/// fills only its own share and the others' signals still get through. The rest (89) is kept for the
/// server's own messages (`NewPeer`, `PeerLeft`); a socket that leaves even those unread is not
/// reading at all and is closed with 4004 (`TOO_SLOW`). Memory is bounded by the bytes below, not
/// by this count (the channel allocates as it fills).
pub const DEFAULT_OUTBOUND_QUEUE: usize = 1024;

/// Bytes waiting to be written to one socket, whatever the count, shared the same way (a sender's
/// share is at least one message of `max_message_bytes`): with the count above it bounds a stalled
/// reader's memory (1024 messages of 64 KiB would otherwise be 64 MiB). A join burst into a full room
/// (11 offers plus their candidates) is about 150 KiB.
pub const OUTBOUND_QUEUE_BYTES: usize = 1024 * 1024;

/// What the server adds around a relayed `data` (`{"Signal":{"sender":"<uuid>","data":...}}`), so a
/// share of `max_message_bytes` plus this always holds one relayed message of the largest size.
pub const SIGNAL_ENVELOPE_BYTES: usize = 1024;

/// WebSockets one client address may hold; the next one is closed with 4002 (`SERVER_FULL`) and a
/// reason naming the address limit. One address is a person, a household or an office behind one
/// NAT: 100 sockets is 100 people in calls at once, while one address alone can no longer take every
/// slot of [`DEFAULT_MAX_CONNECTIONS`]. IPv6 addresses count per /64 (one host usually has a whole
/// /64 to pick from).
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 100;

/// `/config.json` requests per client address: a bucket of `BURST`, refilled by `PER_MIN` a minute;
/// running dry answers 429. A page fetches it once per join, so 60 lets an office behind one NAT join
/// together, while minting TURN credentials in bulk is refused.
pub const DEFAULT_CONFIG_RATE_BURST: u32 = 60;
pub const DEFAULT_CONFIG_RATE_PER_MIN: u32 = 60;

/// Addresses whose `/config.json` bucket is remembered at once. A bucket that has refilled is
/// forgotten first; past this, requests from addresses not yet seen get 429 until some refill, so a
/// spread of addresses cannot grow the table without bound.
pub const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// IPv6 clients are counted by this prefix (per-address limits), as a host is handed a /64.
pub const IPV6_CLIENT_PREFIX: u8 = 64;

/// Initial read buffer of each socket; larger messages grow it. tungstenite's 128 KiB default
/// would make an idle socket cost ~140 KiB.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The server pings every socket this often (browsers answer pings by themselves)...
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(20);
/// ...and closes one it has heard nothing from (no frame of any kind) for this long with 4005
/// (`TIMED_OUT`); the rest of its room gets `PeerLeft`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a server-initiated close frame may take to reach a peer before the TCP connection is
/// simply dropped (a peer that stopped reading would never take it).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// On SIGTERM/Ctrl-C: how long sockets get to take their 1001 close and HTTP requests to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A connection must send its first complete HTTP request within this (slowloris).
pub const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Lifetime of TURN REST API credentials handed out by `/config.json`. Short, so a credential that
/// leaks (or is fetched by a stranger) is useless within hours; but coturn ends a relayed session when
/// its credential expires, and the app fetches credentials once per join, so this is also the longest
/// a call can relay through TURN without rejoining. Two hours covers a long meeting.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(2 * 60 * 60);
