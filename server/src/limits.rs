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

/// Messages waiting to be written to one socket. A peer that stops reading fills it and is closed
/// with 4004 (`TOO_SLOW`) instead of being buffered forever; senders never wait for it.
pub const DEFAULT_OUTBOUND_QUEUE: usize = 256;

/// Bytes waiting to be written to one socket, whatever the count: with the count above it bounds a
/// stalled reader's memory (256 messages of 64 KiB would otherwise be 16 MiB). A join burst into a
/// full room (11 offers plus their candidates) is about 150 KiB.
pub const OUTBOUND_QUEUE_BYTES: usize = 1024 * 1024;

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

/// Lifetime of TURN REST API credentials handed out by `/config.json`. Long enough for a long call:
/// coturn checks the expiry on every allocation refresh.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(24 * 60 * 60);
