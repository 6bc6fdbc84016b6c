//! One WebSocket from upgrade to close: a send task drains the peer's bounded queue and pings; the
//! receive loop enforces the limits and relays. Whatever one socket does ends that socket only:
//! nothing here panics on peer input or waits on another peer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use meshcall_protocol::{close_code, ClientMessage};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, trace};

use crate::client_ip::IpSlot;
use crate::limits::{CLOSE_TIMEOUT, OUTBOUND_QUEUE_BYTES};
use crate::rate::TokenBucket;
use crate::rooms::{Backlog, Outbound, PeerHandle, Relay, Shares};
use crate::AppState;

/// Standard close codes (RFC 6455 §7.4.1).
pub mod std_code {
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server cannot serve the request now; the client may retry (a cluster without Redis).
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Why a socket ended.
#[derive(Debug)]
enum End {
    /// The peer sent a close frame (tungstenite answers it).
    ClientClosed,
    /// The TCP connection ended without a close handshake.
    Lost,
    /// Writing to the socket failed.
    SendFailed,
    /// We close it, with this code and a reason the app can show.
    Close(u16, String),
}

impl End {
    fn close(code: u16, reason: impl Into<String>) -> Self {
        End::Close(code, reason.into())
    }

    fn frame(&self) -> Option<CloseFrame> {
        match self {
            End::Close(code, reason) => Some(close_frame(*code, reason)),
            _ => None,
        }
    }
}

/// A close frame's reason may hold at most 123 bytes (RFC 6455 §5.5: 125 minus the code).
fn close_frame(code: u16, reason: &str) -> CloseFrame {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code,
        reason: Utf8Bytes::from(&reason[..end]),
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::ClientClosed => f.write_str("closed by client"),
            End::Lost => f.write_str("connection lost"),
            End::SendFailed => f.write_str("write failed"),
            End::Close(code, reason) => write!(f, "closed by server {code}: {reason}"),
        }
    }
}

/// What a socket needs from its transport: axum's `WebSocket`, or an in-memory pair in tests.
pub trait Transport:
    Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Send + 'static
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Send
        + 'static
{
}

/// Whether the handshake found the socket a place, taken before the upgrade so no count overshoots.
pub enum Admission {
    /// A server-wide slot and one in its address's count, both held until the socket ends.
    Admitted(OwnedSemaphorePermit, IpSlot),
    ServerFull,
    /// The client's address already holds `max` sockets.
    AddressFull {
        max: usize,
    },
}

/// Runs one upgraded socket to its end; a socket that was not admitted is told why and closed.
pub async fn run<W: Transport>(ws: W, state: AppState, room: String, admission: Admission) {
    // Room names are what lets people in: logs carry a tag that tells rooms apart, never the name.
    let tag = state.rooms.log_tag(&room);
    let _slots = match admission {
        Admission::Admitted(permit, slot) => (permit, slot),
        Admission::ServerFull => {
            info!(room = %tag, "refused: server full");
            let reason = "The server is full. Try again in a minute.";
            close_unjoined(ws, close_code::SERVER_FULL, reason).await;
            return;
        }
        Admission::AddressFull { max } => {
            info!(room = %tag, max, "refused: too many sockets from one address");
            let reason =
                format!("Too many connections from your address ({max}). Close some tabs.");
            close_unjoined(ws, close_code::SERVER_FULL, &reason).await;
            return;
        }
    };
    if state.shutdown.is_cancelled() {
        close_unjoined(ws, std_code::GOING_AWAY, "The server is restarting.").await;
        return;
    }
    let limits = &state.config.limits;
    let id = uuid::Uuid::new_v4().to_string();
    let shares = Shares::new(
        limits.outbound_queue,
        OUTBOUND_QUEUE_BYTES,
        limits.max_peers_per_room,
        limits.max_message_bytes,
    );
    let (tx, rx) = mpsc::channel(shares.messages);
    let too_slow = CancellationToken::new();
    let backlog = Backlog::new(shares);
    let handle = PeerHandle {
        tx,
        backlog: backlog.clone(),
        too_slow: too_slow.clone(),
    };
    let peers = match state
        .join_room(&room, &id, handle, limits.max_peers_per_room)
        .await
    {
        Ok(peers) => peers,
        Err(refused) => {
            let (code, reason) = refused.close();
            info!(room = %tag, %reason, "refused");
            close_unjoined(ws, code, &reason).await;
            return;
        }
    };
    info!(room = %tag, peer = %id, peers, "join");

    let (sink, mut stream) = ws.split();
    let (finish_tx, finish_rx) = oneshot::channel();
    let mut send_task = tokio::spawn(send_loop(
        sink,
        rx,
        backlog,
        limits.ping_interval,
        finish_rx,
    ));
    let me = Me {
        room: &room,
        tag: &tag,
        id: Arc::from(id.as_str()),
    };
    let end = receive_loop(&mut stream, &state, &me, &too_slow, &mut send_task).await;

    // Tell the room first, so the others learn of it however long the close below takes.
    let peers = state.leave_room(&room, &id);
    info!(room = %tag, peer = %id, peers, reason = %end, "leave");

    let send_done = matches!(end, End::SendFailed);
    let _ = finish_tx.send(end.frame());
    // Let the close handshake finish (the peer's close reply), bounded: a peer that stopped
    // reading never completes it.
    let finished = timeout(CLOSE_TIMEOUT, async {
        if !send_done {
            let _ = (&mut send_task).await;
        }
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    if finished.is_err() {
        send_task.abort();
    }
}

/// The socket's own peer: its room, the room's log tag and its id.
struct Me<'a> {
    room: &'a str,
    tag: &'a str,
    id: Arc<str>,
}

async fn receive_loop<W: Transport>(
    stream: &mut SplitStream<W>,
    state: &AppState,
    me: &Me<'_>,
    too_slow: &CancellationToken,
    send_task: &mut JoinHandle<()>,
) -> End {
    let limits = &state.config.limits;
    let mut bucket = TokenBucket::new(
        limits.rate_burst,
        limits.rate_per_sec,
        Instant::now().into_std(),
    );
    let idle = sleep(limits.idle_timeout);
    tokio::pin!(idle);
    loop {
        let frame = tokio::select! {
            biased;
            _ = state.shutdown.cancelled() => {
                return End::close(std_code::GOING_AWAY, "The server is restarting.");
            }
            _ = too_slow.cancelled() => {
                return End::close(close_code::TOO_SLOW, "Your connection is too slow to keep up.");
            }
            _ = &mut *send_task => return End::SendFailed,
            // Frames before the timer: after a stall (a busy machine), a pong already waiting in
            // the buffer proves the peer alive even if the deadline has passed meanwhile.
            frame = stream.next() => frame,
            _ = &mut idle => {
                let secs = limits.idle_timeout.as_secs_f64();
                return End::close(close_code::TIMED_OUT, format!("Nothing heard for {secs} s."));
            }
        };
        let frame = match frame {
            None => return End::Lost,
            Some(Err(err)) => return read_error(err, limits.max_message_bytes),
            Some(Ok(frame)) => frame,
        };
        idle.as_mut().reset(Instant::now() + limits.idle_timeout);
        if !bucket.take(Instant::now().into_std()) {
            return End::close(close_code::RATE_LIMITED, "Too many messages, slow down.");
        }
        match frame {
            Message::Text(text) => match parse(&text) {
                Parsed::Signal { receiver, data } => {
                    let (room, from) = (me.tag, &me.id);
                    let outcome = state.relay(me.room, from, &receiver, data);
                    trace!(room, %from, to = %receiver, bytes = text.len(), ?outcome, "relay");
                    match outcome {
                        Relay::Delivered => {}
                        Relay::UnknownReceiver => {
                            debug!(room, %from, to = %receiver, "signal to unknown receiver dropped");
                        }
                        // Another node delivers it (or drops it there, against the same share).
                        Relay::Forwarded => {}
                        Relay::OverShare => {
                            debug!(room, %from, to = %receiver, "signal over the sender's share dropped");
                        }
                    }
                }
                Parsed::KeepAlive => {}
                Parsed::Unknown => debug!(room = me.tag, peer = %me.id, "unknown message ignored"),
                Parsed::Malformed(why) => return End::close(std_code::INVALID_PAYLOAD, why),
            },
            Message::Binary(_) => {
                return End::close(
                    std_code::UNSUPPORTED_DATA,
                    "Binary messages are not supported.",
                );
            }
            // tungstenite answers pings itself; either kind only proves the peer is alive.
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => return End::ClientClosed,
        }
    }
}

/// A read error: too big and bad UTF-8 get their close codes, the rest means the connection is gone.
fn read_error(err: axum::Error, max: usize) -> End {
    use tungstenite::error::{Error as WsError, ProtocolError};
    match err.into_inner().downcast::<WsError>().map(|e| *e) {
        Ok(WsError::Capacity(_)) => End::close(
            std_code::MESSAGE_TOO_BIG,
            format!("Message too big (limit {max} bytes)."),
        ),
        Ok(WsError::Utf8(_)) => End::close(std_code::INVALID_PAYLOAD, "Text frame is not UTF-8."),
        Ok(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => End::Lost,
        Ok(WsError::Protocol(e)) => End::close(std_code::PROTOCOL_ERROR, e.to_string()),
        _ => End::Lost,
    }
}

#[derive(Debug, PartialEq)]
enum Parsed {
    Signal {
        receiver: String,
        data: Value,
    },
    KeepAlive,
    /// Well-formed JSON that is no message we know: ignored, so newer clients keep working.
    Unknown,
    /// Not JSON, or a known message with the wrong shape: the socket is closed with 1007.
    Malformed(&'static str),
}

fn parse(text: &str) -> Parsed {
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::Signal { receiver, data }) => Parsed::Signal { receiver, data },
        Ok(ClientMessage::KeepAlive) => Parsed::KeepAlive,
        // Rare path (bad input): parse again to tell unknown messages from broken ones.
        Err(_) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) if o.contains_key("Signal") => {
                Parsed::Malformed("Malformed Signal: needs a string receiver and data.")
            }
            Ok(_) => Parsed::Unknown,
            Err(_) => Parsed::Malformed("Malformed JSON."),
        },
    }
}

/// Writes queued messages and pings until told to finish, then sends the close frame.
async fn send_loop<W: Transport>(
    mut sink: SplitSink<W, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    backlog: Backlog,
    ping_every: Duration,
    mut finish: oneshot::Receiver<Option<CloseFrame>>,
) {
    let frame = {
        let pump = async {
            let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
            ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let msg = tokio::select! {
                    msg = rx.recv() => match msg {
                        Some(Outbound { text, from }) => {
                            backlog.release(from.as_ref(), text.len());
                            Message::Text(text)
                        }
                        // The room dropped us: the receive loop has ended, `finish` follows.
                        None => return true,
                    },
                    _ = ping.tick() => Message::Ping(Default::default()),
                };
                if sink.send(msg).await.is_err() {
                    return false;
                }
            }
        };
        tokio::pin!(pump);
        tokio::select! {
            healthy = &mut pump => {
                if !healthy {
                    return;
                }
                (&mut finish).await.ok().flatten()
            }
            frame = &mut finish => frame.ok().flatten(),
        }
    };
    let _ = timeout(CLOSE_TIMEOUT, async {
        if let Some(frame) = frame {
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        let _ = sink.close().await;
    })
    .await;
}

/// Closes a socket that never joined a room, waiting briefly for the close reply.
async fn close_unjoined<W: Transport>(ws: W, code: u16, reason: &str) {
    let mut ws = std::pin::pin!(ws);
    let _ = timeout(CLOSE_TIMEOUT, async {
        if ws
            .send(Message::Close(Some(close_frame(code, reason))))
            .await
            .is_ok()
        {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let frame = close_frame(1002, &long);
        assert!(frame.reason.len() <= 123);
        assert!(long.starts_with(frame.reason.as_str()));
        assert_eq!(close_frame(4001, "full").reason.as_str(), "full");
    }

    #[test]
    fn parse_table() {
        let signal = Parsed::Signal {
            receiver: "a".into(),
            data: json!({"Offer": "v=0"}),
        };
        let cases = [
            (
                r#"{"Signal":{"receiver":"a","data":{"Offer":"v=0"}}}"#,
                signal,
            ),
            (r#""KeepAlive""#, Parsed::KeepAlive),
            (r#"{"Hello":1}"#, Parsed::Unknown),
            (r#""Ping""#, Parsed::Unknown),
            ("[1,2]", Parsed::Unknown),
            ("{", Parsed::Malformed("Malformed JSON.")),
            ("not json", Parsed::Malformed("Malformed JSON.")),
            ("", Parsed::Malformed("Malformed JSON.")),
            (
                r#"{"Signal":{"receiver":5,"data":1}}"#,
                Parsed::Malformed("Malformed Signal: needs a string receiver and data."),
            ),
            (
                r#"{"Signal":{"data":1}}"#,
                Parsed::Malformed("Malformed Signal: needs a string receiver and data."),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text}");
        }
    }
}

/// The socket over an in-memory transport with tokio's paused clock: the real defaults (ping every
/// 20 s, close after 60 s) checked to the millisecond, in no wall time.
#[cfg(test)]
mod transport_tests;
