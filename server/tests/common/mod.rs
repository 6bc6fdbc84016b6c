//! Shared by the integration tests: a server on port 0 and tokio-tungstenite clients that speak
//! the wire protocol. Every wait is bounded by [`WAIT`], so a broken server fails, never hangs.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use meshcall_protocol::{ClientMessage, PeerId, ServerMessage};
use meshcall_server::{Config, ServeError};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), ServeError>>,
}

/// The defaults, minus anything on disk.
pub fn config() -> Config {
    Config {
        static_dir: Some("/nonexistent/meshcall-dist".into()),
        ..Config::default()
    }
}

pub async fn start(config: Config) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(meshcall_server::serve(listener, config, async {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Like [`start`], but on a runtime and threads of its own, as a real server is its own process:
/// what a test measures is then the server, not the test clients' share of one runtime.
pub fn start_on_own_runtime(config: Config) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(meshcall_server::serve(listener, config, async {
            let _ = stopped.await;
        }));
        let _ = done_tx.send(result);
    });
    let task = tokio::spawn(async { done_rx.await.expect("the server thread reports") });
    TestServer {
        addr,
        stop: Some(stop),
        task,
    }
}

impl TestServer {
    pub fn url(&self, room: &str) -> String {
        format!("ws://{}/ws/{room}", self.addr)
    }

    /// Asks the server to shut down and waits until `serve` returns.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("serve returns")
            .expect("no panic")
    }

    pub async fn connect(&self, room: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(self.url(room))
            .await
            .expect("handshake");
        ws
    }

    /// Connects and reads the `IdAssigned` that must come first.
    pub async fn join(&self, room: &str) -> (Client, PeerId) {
        let mut ws = self.connect(room).await;
        match next_msg(&mut ws).await {
            ServerMessage::IdAssigned(id) => (ws, id),
            other => panic!("expected IdAssigned first, got {other:?}"),
        }
    }

    /// After a socket of a full server (or address) has closed: joins `room` once the server has
    /// freed its place, and fails if that takes longer than [`WAIT`].
    pub async fn join_once_a_place_frees(&self, room: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut ws = self.connect(room).await;
            match next_msg_or_close(&mut ws).await {
                Ok(ServerMessage::IdAssigned(_)) => return,
                Ok(other) => panic!("{other:?}"),
                Err((code, _)) => assert_eq!(code, meshcall_protocol::close_code::SERVER_FULL),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the place was never freed"
            );
            // The server frees it once it has seen the close: there is no event to await for that.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The HTTP status of a WebSocket handshake that the server refuses.
    pub async fn refused_status(&self, room: &str, origin: Option<&str>) -> u16 {
        match self.try_connect(room, origin).await {
            Ok(_) => panic!("handshake to {room:?} succeeded"),
            Err(tungstenite::Error::Http(res)) => res.status().as_u16(),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    pub async fn try_connect(
        &self,
        room: &str,
        origin: Option<&str>,
    ) -> Result<Client, tungstenite::Error> {
        let mut req = self.url(room).into_client_request()?;
        if let Some(origin) = origin {
            req.headers_mut().insert("origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(req)
            .await
            .map(|(ws, _)| ws)
    }

    /// A plain HTTP/1.1 GET: (status, headers lowercased, body).
    pub async fn get(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
        http_get(self.addr, path).await
    }
}

pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, String) {
    http_get_from(addr, "127.0.0.1", path, &[]).await
}

pub fn parse_response(raw: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The next protocol message, skipping pings and pongs.
pub async fn next_msg<S>(ws: &mut S) -> ServerMessage
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The next protocol message, or the close frame's code and reason if the socket is closed first.
pub async fn next_msg_or_close<S>(ws: &mut S) -> Result<ServerMessage, (u16, String)>
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message or a close in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}")));
            }
            Some(Ok(Message::Close(Some(f)))) => return Err((f.code.into(), f.reason.to_string())),
            Some(Ok(_)) => continue,
            other => panic!("expected a message or a close, got {other:?}"),
        }
    }
}

/// A TCP connection to `addr` from the local address `from`.
async fn tcp_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr).await.unwrap()
}

/// A WebSocket to `server` from the local address `from` (any of 127.0.0.0/8 is this machine, so a
/// test can be several clients), with extra handshake headers.
pub async fn connect_from(
    server: &TestServer,
    from: &str,
    room: &str,
    headers: &[(&'static str, &str)],
) -> Client {
    let tcp = tcp_from(from, server.addr).await;
    let mut req = server.url(room).into_client_request().unwrap();
    for (name, value) in headers {
        req.headers_mut().append(*name, value.parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp))
        .await
        .expect("handshake");
    ws
}

/// A plain HTTP/1.1 GET from the local address `from` with extra headers (a `Host` among them
/// replaces the default): (status, headers lowercased, body).
pub async fn http_get_from(
    addr: SocketAddr,
    from: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut tcp = tcp_from(from, addr).await;
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    parse_response(&raw)
}

/// Skips messages until the close frame and returns its code and reason; panics if the connection
/// ends without one.
pub async fn next_close<S>(ws: &mut S) -> (u16, String)
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close in time");
        let close = match frame {
            Some(Ok(Message::Close(Some(frame)))) => {
                (u16::from(frame.code), frame.reason.to_string())
            }
            Some(Ok(Message::Close(None))) => (u16::from(CloseCode::Status), String::new()),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        };
        // Keep reading, as a browser does, so our close reply goes out and the server is done.
        let _ =
            tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = ws.next().await {} }).await;
        return close;
    }
}

pub async fn send<S>(ws: &mut S, msg: &ClientMessage)
where
    S: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    let text = serde_json::to_string(msg).unwrap();
    ws.send(Message::text(text)).await.expect("send");
}

pub fn signal(receiver: &str, data: Value) -> ClientMessage {
    ClientMessage::Signal {
        receiver: receiver.to_owned(),
        data,
    }
}

pub fn relayed(sender: &str, data: Value) -> ServerMessage {
    ServerMessage::Signal {
        sender: sender.to_owned(),
        data,
    }
}

/// The real binary, started with `env` (plus an ephemeral address and no app), its stdout lines,
/// and the address it printed once listening.
pub struct Binary {
    pub child: std::process::Child,
    pub lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub addr: String,
}

pub async fn spawn_binary(env: &[(&str, &str)]) -> Binary {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_meshcall-server"));
    command.env("MESHCALL_STATIC_DIR", "/nonexistent/meshcall-dist");
    for (key, value) in env {
        command.env(key, value);
    }
    spawn_command(command).await
}

/// Runs `command` (a meshcall-server) on an ephemeral address and waits until it listens.
pub async fn spawn_command(mut command: std::process::Command) -> Binary {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    command
        .env("MESHCALL_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let addr = loop {
        let line = tokio::time::timeout(WAIT, lines.recv())
            .await
            .unwrap()
            .expect("a log line");
        if let Some((_, rest)) = line.split_once("listening on ") {
            let url: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"')
                .collect();
            break url.split_once("://").unwrap().1.to_owned();
        }
        seen.push(line);
    };
    // Give back what came before the listening line too.
    let (tx, rest) = tokio::sync::mpsc::unbounded_channel();
    for line in seen {
        let _ = tx.send(line);
    }
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Binary {
        child,
        lines: rest,
        addr,
    }
}

impl Binary {
    /// The next stdout line containing `needle`.
    pub async fn line_with(&mut self, needle: &str) -> String {
        loop {
            let line = tokio::time::timeout(WAIT, self.lines.recv())
                .await
                .unwrap()
                .expect("a line");
            if line.contains(needle) {
                return line;
            }
        }
    }

    pub fn sigterm(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) with a pid we spawned and own; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    pub async fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return exit;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        // A failed test must not leave its server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
