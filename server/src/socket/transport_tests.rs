//! The socket over an in-memory transport with tokio's paused clock: the real defaults (ping every
//! 20 s, close after 60 s) checked to the millisecond, in no wall time.

use std::pin::Pin;
use std::task::{Context, Poll};

use meshcall_protocol::ServerMessage;

use super::*;
use crate::{AppState, Config};

/// What the test pushes arrives at the server as frames; what the server sends comes out.
struct Pipe {
    inbound: mpsc::UnboundedReceiver<Result<Message, axum::Error>>,
    outbound: mpsc::UnboundedSender<Message>,
}

impl Stream for Pipe {
    type Item = Result<Message, axum::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inbound.poll_recv(cx)
    }
}

impl Sink<Message> for Pipe {
    type Error = axum::Error;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), axum::Error> {
        self.outbound.send(item).map_err(axum::Error::new)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        Poll::Ready(Ok(()))
    }
}

struct Client {
    to_server: mpsc::UnboundedSender<Result<Message, axum::Error>>,
    from_server: mpsc::UnboundedReceiver<Message>,
}

impl Client {
    fn connect(state: &AppState, room: &str) -> Self {
        let (to_server, inbound) = mpsc::unbounded_channel();
        let (outbound, from_server) = mpsc::unbounded_channel();
        let admission = state.admit(crate::client_ip::ClientIp(None));
        let pipe = Pipe { inbound, outbound };
        tokio::spawn(run(pipe, state.clone(), room.to_owned(), admission));
        Client {
            to_server,
            from_server,
        }
    }

    async fn next(&mut self) -> Message {
        self.from_server.recv().await.expect("the server sends")
    }

    async fn next_msg(&mut self) -> ServerMessage {
        match self.next().await {
            Message::Text(text) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn default_heartbeat_pings_every_20s_and_closes_after_60s_of_silence() {
    let state = AppState::new(Config::default());
    let start = Instant::now();
    let mut alive = Client::connect(&state, "r");
    let ServerMessage::IdAssigned(_) = alive.next_msg().await else {
        panic!()
    };
    let mut silent = Client::connect(&state, "r");
    let ServerMessage::IdAssigned(silent_id) = silent.next_msg().await else {
        panic!()
    };
    assert_eq!(
        alive.next_msg().await,
        ServerMessage::NewPeer(silent_id.clone())
    );

    // `alive` answers each ping, as browsers do; `silent` never does.
    let mut pings = Vec::new();
    let left_at = loop {
        match alive.next().await {
            Message::Ping(payload) => {
                pings.push(start.elapsed());
                alive.to_server.send(Ok(Message::Pong(payload))).unwrap();
            }
            Message::Text(text) => {
                let msg: ServerMessage = serde_json::from_str(&text).unwrap();
                assert_eq!(msg, ServerMessage::PeerLeft(silent_id.clone()));
                break start.elapsed();
            }
            other => panic!("{other:?}"),
        }
    };
    let secs = |s| Duration::from_secs(s);
    assert_eq!(pings[..2], [secs(20), secs(40)], "{pings:?}");
    assert_eq!(left_at, secs(60));

    // silent got the same pings, then the close.
    let mut frames = Vec::new();
    while let Ok(frame) = silent.from_server.try_recv() {
        frames.push(frame);
    }
    let Some(Message::Close(Some(close))) = frames.last() else {
        panic!("{frames:?}")
    };
    assert_eq!(close.code, close_code::TIMED_OUT);

    // alive stays as long as it answers: ten minutes later it is still in the room.
    let responder = tokio::spawn(async move {
        loop {
            match alive.next().await {
                Message::Ping(payload) => {
                    let _ = alive.to_server.send(Ok(Message::Pong(payload)));
                }
                other => return other,
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(!responder.is_finished());
    assert_eq!(state.rooms.stats().peers, 1);
    responder.abort();
}
