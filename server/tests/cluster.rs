//! Several nodes as one server through a real redis-server (Debian's `redis-server`, which each
//! test starts on a free port with a directory of its own): peers on different nodes meet, signal
//! and leave in the single node's order, rooms stay apart, the room cap holds when joins race on
//! three nodes, a killed node's peers leave within the documented bound, and Redis going away and
//! coming back is survived without restarting a node.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{next_close, next_msg, relayed, send, signal, start, Client, TestServer, WAIT};
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::{close_code, PeerId, ServerMessage};
use meshcall_server::cluster::LEFT_WITHIN;
use meshcall_server::Config;
use serde_json::json;

/// A redis-server of the test's own, stopped when dropped.
struct Redis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Redis {
    async fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("meshcall-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Redis {
            port,
            dir,
            child: None,
        };
        redis.run().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts redis-server (again) on the same port, empty, and waits until it answers.
    async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/lib.sh setup_test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(mut tcp) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut pong = [0u8; 7];
                if tcp.write_all(b"PING\r\n").await.is_ok()
                    && tcp.read_exact(&mut pong).await.is_ok()
                    && &pong == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn node_config(redis: &Redis) -> Config {
    Config {
        redis: Some(redis.url()),
        ..common::config()
    }
}

async fn nodes(redis: &Redis, n: usize) -> Vec<TestServer> {
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(start(node_config(redis)).await);
    }
    for node in &nodes {
        wait_health(node.addr, 200).await;
    }
    nodes
}

/// Waits until `/healthz` answers `status` (200 once the node reaches Redis, 503 while it cannot).
async fn wait_health(addr: SocketAddr, status: u16) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (got, _, body) = common::http_get(addr, "/healthz").await;
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz still {got}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn join_at(addr: &str, room: &str) -> (Client, PeerId) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/{room}"))
        .await
        .expect("handshake");
    match next_msg(&mut ws).await {
        ServerMessage::IdAssigned(id) => (ws, id),
        other => panic!("expected IdAssigned first, got {other:?}"),
    }
}

/// Nothing but pings arrives for `ws` during `period`.
async fn quiet_for(ws: &mut Client, period: Duration) {
    let end = tokio::time::Instant::now() + period;
    loop {
        match tokio::time::timeout_at(end, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_)))) => {}
            Ok(other) => panic!("expected nothing, got {other:?}"),
        }
    }
}

/// Nothing more arrives for `ws` (after a message that was sent later has been seen elsewhere).
async fn quiet(ws: &mut Client) {
    quiet_for(ws, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn peers_on_different_nodes_meet_signal_and_leave_as_on_one() {
    let redis = Redis::start().await;
    let n = nodes(&redis, 2).await;
    let (mut a, a_id) = n[0].join("standup").await;
    let (mut b, b_id) = n[1].join("standup").await;
    assert_ne!(a_id, b_id);
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));

    // A third, on the first node: everyone hears of it, it hears of no one.
    let (mut c, c_id) = n[0].join("standup").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(c_id.clone()));
    assert_eq!(next_msg(&mut b).await, ServerMessage::NewPeer(c_id.clone()));

    // Signals cross nodes both ways, stamped with the real sender whatever the client claims.
    send(&mut a, &signal(&b_id, json!({"Offer": "v=0"}))).await;
    assert_eq!(
        next_msg(&mut b).await,
        relayed(&a_id, json!({"Offer": "v=0"}))
    );
    let forged = r#"{"Signal":{"receiver":"R","data":1,"sender":"mallory"}}"#.replace('R', &c_id);
    b.send(tokio_tungstenite::tungstenite::Message::text(forged))
        .await
        .unwrap();
    assert_eq!(next_msg(&mut c).await, relayed(&b_id, json!(1)));
    // Same node, through the cluster as well.
    send(&mut c, &signal(&a_id, json!("hi"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&c_id, json!("hi")));

    // Leaving, by close or by a dropped connection, reaches both nodes once.
    b.close(None).await.unwrap();
    assert_eq!(
        next_msg(&mut a).await,
        ServerMessage::PeerLeft(b_id.clone())
    );
    assert_eq!(
        next_msg(&mut c).await,
        ServerMessage::PeerLeft(b_id.clone())
    );
    drop(c);
    assert_eq!(next_msg(&mut a).await, ServerMessage::PeerLeft(c_id));
    send(&mut a, &signal(&a_id, json!("self"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&a_id, json!("self")));
}

#[tokio::test]
async fn order_holds_across_nodes_new_peer_then_its_signals_then_peer_left() {
    let redis = Redis::start().await;
    let n = nodes(&redis, 2).await;
    let (mut a, a_id) = n[0].join("order").await;
    // b joins on the other node and signals at once: a must hear of b before its first signal.
    // 80: within one sender's share of a receiver's queue (`--outbound-queue` / peers per room), so
    // none is dropped as a flood when the bus hands them over in one batch.
    let (mut b, b_id) = n[1].join("order").await;
    for i in 0..80 {
        send(&mut b, &signal(&a_id, json!(i))).await;
    }
    b.close(None).await.unwrap();
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));
    for i in 0..80 {
        assert_eq!(next_msg(&mut a).await, relayed(&b_id, json!(i)));
    }
    assert_eq!(next_msg(&mut a).await, ServerMessage::PeerLeft(b_id));
    // A newcomer is never told of those already there, even when it joins during their news.
    let (mut d, d_id) = n[1].join("order").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(d_id.clone()));
    send(&mut a, &signal(&d_id, json!("first"))).await;
    assert_eq!(next_msg(&mut d).await, relayed(&a_id, json!("first")));
}

#[tokio::test]
async fn rooms_stay_apart_across_nodes() {
    let redis = Redis::start().await;
    let n = nodes(&redis, 2).await;
    let (mut a, a_id) = n[0].join("ours").await;
    let (mut b, b_id) = n[1].join("ours").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));
    // Mallory, in another room on the other node, knows a's id and signals it.
    let (mut mallory, _) = n[1].join("theirs").await;
    send(&mut mallory, &signal(&a_id, json!("let me in"))).await;
    let (mut eve, eve_id) = n[0].join("theirs").await;
    assert_eq!(next_msg(&mut mallory).await, ServerMessage::NewPeer(eve_id));
    // Sent after mallory's: arriving proves mallory's is not coming.
    send(&mut b, &signal(&a_id, json!("legit"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&b_id, json!("legit")));
    quiet(&mut a).await;
    quiet(&mut eve).await;
}

#[tokio::test]
async fn the_room_cap_holds_when_six_join_at_once_on_three_nodes() {
    let redis = Redis::start().await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let mut config = node_config(&redis);
        config.limits.max_peers_per_room = 4;
        nodes.push(start(config).await);
    }
    for node in &nodes {
        wait_health(node.addr, 200).await;
    }
    let joins = (0..6).map(|i| {
        let url = nodes[i % 3].url("capped");
        tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                    assert!(t.contains("IdAssigned"), "{t}");
                    (true, ws)
                }
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f)))) => {
                    assert_eq!(u16::from(f.code), close_code::ROOM_FULL, "{f:?}");
                    (false, ws)
                }
                other => panic!("{other:?}"),
            }
        })
    });
    let mut admitted = 0;
    let mut sockets = Vec::new();
    for join in joins.collect::<Vec<_>>() {
        let (joined, ws) = tokio::time::timeout(WAIT, join).await.unwrap().unwrap();
        admitted += usize::from(joined);
        sockets.push(ws);
    }
    assert_eq!(admitted, 4, "exactly the cap is admitted");
    // And the next one, anywhere, is refused too.
    let mut late = nodes[1].connect("capped").await;
    assert_eq!(next_close(&mut late).await.0, close_code::ROOM_FULL);
}

#[tokio::test]
async fn a_killed_node_s_peers_leave_within_the_bound() {
    let redis = Redis::start().await;
    let n = nodes(&redis, 1).await;
    let url = redis.url();
    let mut victim = common::spawn_binary(&[("MESHCALL_REDIS", url.as_str())]).await;
    let (mut a, _) = n[0].join("call").await;
    let (_x, x_id) = join_at(&victim.addr, "call").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(x_id.clone()));

    // SIGKILL: no goodbye, the socket stays open on our side until the kernel closes it.
    victim.child.kill().unwrap();
    let killed = Instant::now();
    victim.child.wait().unwrap();
    let left = tokio::time::timeout(LEFT_WITHIN + Duration::from_secs(1), next_msg(&mut a)).await;
    assert_eq!(left.ok(), Some(ServerMessage::PeerLeft(x_id)));
    let took = killed.elapsed();
    assert!(took <= LEFT_WITHIN + Duration::from_millis(500), "{took:?}");
}

#[tokio::test]
async fn sigterm_hands_clients_over_without_anyone_seeing_them_leave() {
    let redis = Redis::start().await;
    let mut config = node_config(&redis);
    config.limits.max_peers_per_room = 2;
    let stay = start(config).await;
    wait_health(stay.addr, 200).await;
    let url = redis.url();
    let mut going = common::spawn_binary(&[
        ("MESHCALL_REDIS", url.as_str()),
        ("MESHCALL_MAX_PEERS_PER_ROOM", "2"),
    ])
    .await;
    let (mut a, _) = stay.join("call").await;
    let (mut x, x_id) = join_at(&going.addr, "call").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(x_id.clone()));

    going.sigterm();
    assert_eq!(next_close(&mut x).await.0, 1001);
    assert!(going.wait().await.success());
    // x comes back through the node that stays (as the load balancer sends it), under a new id...
    let (_x, x2_id) = stay.join("call").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(x2_id));
    // ...counted once (the cap of 2 admitted it and refuses a third)...
    let mut third = stay.connect("call").await;
    assert_eq!(next_close(&mut third).await.0, close_code::ROOM_FULL);
    // ...and a never hears that x left, not even after a dead node's peers would have been announced.
    quiet_for(&mut a, LEFT_WITHIN + Duration::from_secs(1)).await;
}

#[tokio::test]
async fn redis_away_is_reported_refuses_joins_and_heals_when_it_returns() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("debug,redis=info,tungstenite=info,tokio_tungstenite=info,hyper=info")
        .with_test_writer()
        .try_init();
    let mut redis = Redis::start().await;
    let n = nodes(&redis, 2).await;
    let (mut a, a_id) = n[0].join("call").await;
    let (mut b, b_id) = n[1].join("call").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id.clone()));

    redis.kill();
    let body = wait_health(n[0].addr, 503).await;
    assert!(body.contains("unavailable"), "{body}");
    // A new join is told why, with a code that invites a retry.
    let mut c = n[1].connect("call").await;
    let (code, reason) = next_close(&mut c).await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("Try again"), "{reason}");
    // Those already in keep their sockets (pings still answered).
    a.send(tokio_tungstenite::tungstenite::Message::Ping(
        b"still here".to_vec().into(),
    ))
    .await
    .unwrap();
    loop {
        match tokio::time::timeout(WAIT, a.next()).await.unwrap() {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Pong(p))) => {
                assert_eq!(&p[..], b"still here");
                break;
            }
            Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_))) => {}
            other => panic!("{other:?}"),
        }
    }

    // Redis comes back empty: the nodes heal by themselves.
    redis.run().await;
    for node in &n {
        wait_health(node.addr, 200).await;
    }
    let deadline = Instant::now() + WAIT;
    let (mut c, c_id) = loop {
        // Until the nodes have put their members back, a join may still be refused.
        let mut ws = n[1].connect("call").await;
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                let ServerMessage::IdAssigned(id) = serde_json::from_str(&t).unwrap() else {
                    panic!("{t}")
                };
                break (ws, id);
            }
            other => assert!(Instant::now() < deadline, "still refused: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(c_id.clone()));
    assert_eq!(next_msg(&mut b).await, ServerMessage::NewPeer(c_id.clone()));
    send(&mut c, &signal(&a_id, json!("after"))).await;
    assert_eq!(next_msg(&mut a).await, relayed(&c_id, json!("after")));
    send(&mut a, &signal(&b_id, json!("again"))).await;
    assert_eq!(next_msg(&mut b).await, relayed(&a_id, json!("again")));
    // The members were put back: a leaving peer is announced to the other node.
    drop(b);
    assert_eq!(
        next_msg(&mut a).await,
        ServerMessage::PeerLeft(b_id.clone())
    );
    assert_eq!(next_msg(&mut c).await, ServerMessage::PeerLeft(b_id));
}

#[tokio::test]
async fn one_node_without_redis_needs_nothing_new() {
    let server = start(common::config()).await;
    let (_, _, body) = server.get("/healthz").await;
    assert!(!body.contains("cluster"), "{body}");
    let (mut a, _) = server.join("solo").await;
    let (_b, b_id) = server.join("solo").await;
    assert_eq!(next_msg(&mut a).await, ServerMessage::NewPeer(b_id));
}
