//! Load generator for any matchbox-protocol signaling server (issue 6, benchmarks): it opens
//! thousands of websockets, groups them into rooms, relays timestamped `Signal`s between room
//! members at a steady total rate, and prints relay latency, the rate held, the connection setup
//! rate and the server's resident memory per idle socket.
//!
//! It must never send traffic anywhere but loopback, and every phase is bounded in time: it stops
//! by itself. Run it with `cargo run --release -p meshcall-server --example loadgen -- --help`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use meshcall_protocol::{ClientMessage, ServerMessage};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
#[command(about = "Load generator for matchbox-protocol signaling servers (loopback only)")]
struct Args {
    /// Base websocket URL; a room name is appended. meshcall-server: ws://127.0.0.1:8080/ws/,
    /// matchbox_server: ws://127.0.0.1:3536/. Only loopback hosts are accepted.
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws/")]
    url: String,
    /// Concurrent sockets to hold (each costs one file descriptor here and one in the server).
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Room sizes, `MIN..MAX` (inclusive) or one number; each room draws its size uniformly.
    #[arg(long, default_value = "2..12", value_parser = parse_range)]
    room_size: (usize, usize),
    /// Total relay rate in messages/s; a comma-separated list runs one step per rate, in order.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    rate: Vec<u32>,
    /// Seconds each rate step lasts.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Connection handshakes in flight at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Upper bound of the whole connect phase, seconds.
    #[arg(long, default_value_t = 120.0)]
    connect_timeout: f64,
    /// Pid of the server, to read its VmRSS (memory per idle socket) and CPU time per step.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to let the server settle with every socket idle before reading its memory.
    #[arg(long, default_value_t = 3.0)]
    idle_settle: f64,
    /// Bytes of padding in each relayed `data`, standing in for an ICE candidate or SDP.
    #[arg(long, default_value_t = 200)]
    payload: usize,
    /// Seconds between `"KeepAlive"`s of each socket, as matchbox clients send them; 0 = none.
    #[arg(long, default_value_t = 10.0)]
    keepalive: f64,
    /// Joins per second made during each relay step by extra short-lived sockets (into rooms
    /// below MAX, held `--churn-hold` seconds), to measure joining a busy server; 0 = none.
    #[arg(long, default_value_t = 0.0)]
    churn: f64,
    /// Seconds each churn socket stays in its room.
    #[arg(long, default_value_t = 1.0)]
    churn_hold: f64,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A second node of the same cluster (meshcall-server --redis): odd rooms put their members on
    /// alternating nodes, even rooms all on one node (alternately), and relay latency is reported
    /// for same-node and cross-node pairs apart.
    #[arg(long)]
    cluster_url: Option<String>,
    /// Pid of the second node, for its memory per idle socket.
    #[arg(long)]
    cluster_pid: Option<u32>,
    /// Seed of the room sizes, send phases and receivers, so runs are comparable.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (lo, hi) = match s.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim().trim_start_matches('=')),
        None => (s.trim(), s.trim()),
    };
    let lo: usize = lo.parse().map_err(|_| format!("bad room size {s:?}"))?;
    let hi: usize = hi.parse().map_err(|_| format!("bad room size {s:?}"))?;
    if lo < 2 || hi < lo {
        return Err(format!("room size {s:?}: need 2 <= MIN <= MAX"));
    }
    Ok((lo, hi))
}

/// xorshift64*: deterministic, fast, and enough for spreading load.
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone)]
enum Phase {
    Connecting,
    Relay {
        step: usize,
        start: Instant,
        interval: Duration,
        rooms: Arc<Vec<Vec<String>>>,
    },
    Drain,
    Stop,
}

struct Ctx {
    epoch: Instant,
    payload: String,
    keepalive: Option<Duration>,
    connect_gate: Semaphore,
    steps: usize,
    new_peers: AtomicU64,
    peer_left: AtomicU64,
}

struct Joined {
    room: usize,
    node: usize,
    id: String,
    setup: Duration,
}

#[derive(Default)]
struct SocketReport {
    joined: bool,
    latencies_us: Vec<Vec<u32>>,
    /// With `--cluster-url`: per step, latencies of pairs on the same node \[0\] and across \[1\].
    split_us: [Vec<Vec<u32>>; 2],
    sent: Vec<u64>,
    received: Vec<u64>,
    max_send_lag: Duration,
    keepalives: u64,
    errors: Vec<String>,
}

fn nanos_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

async fn run_socket(
    url: String,
    (room, node): (usize, usize),
    seed: u64,
    ctx: Arc<Ctx>,
    joined_tx: mpsc::UnboundedSender<Result<Joined, String>>,
    mut phase_rx: watch::Receiver<Phase>,
) -> SocketReport {
    let mut report = SocketReport {
        latencies_us: vec![Vec::new(); ctx.steps],
        split_us: [vec![Vec::new(); ctx.steps], vec![Vec::new(); ctx.steps]],
        sent: vec![0; ctx.steps],
        received: vec![0; ctx.steps],
        ..Default::default()
    };
    let mut rng = Rng::new(seed);

    // Connect and wait for our id, holding a permit so handshakes are spread, not stampeded.
    let permit = ctx.connect_gate.acquire().await;
    let t0 = Instant::now();
    let connected = join_room(&url).await;
    drop(permit);
    let (mut ws, my_id) = match connected {
        Ok(v) => v,
        Err(e) => {
            report.errors.push(e.clone());
            let _ = joined_tx.send(Err(e));
            return report;
        }
    };
    report.joined = true;
    let _ = joined_tx.send(Ok(Joined {
        room,
        node,
        id: my_id.clone(),
        setup: t0.elapsed(),
    }));
    drop(joined_tx);

    let far = Instant::now() + Duration::from_secs(86_400);
    let mut next_keepalive = match ctx.keepalive {
        Some(k) => Instant::now() + k.mul_f64(rng.unit()),
        None => far,
    };
    let mut next_send: Option<Instant> = None;
    let mut relay: Option<(usize, Duration, Vec<String>)> = None;
    // The room as the relay knows it; kept through Drain, when churn sockets still leave.
    let mut members: Option<Vec<String>> = None;
    // Two timers per socket, re-armed in place: 10,000 sockets must not churn the timer wheel.
    let send_timer = sleep_until(far);
    let keepalive_timer = sleep_until(next_keepalive);
    tokio::pin!(send_timer, keepalive_timer);

    loop {
        tokio::select! {
            biased;
            changed = phase_rx.changed() => {
                if changed.is_err() { break; }
                let phase = phase_rx.borrow_and_update().clone();
                match phase {
                    Phase::Connecting => {}
                    Phase::Relay { step, start, interval, rooms } => {
                        let others: Vec<String> =
                            rooms[room].iter().filter(|id| **id != my_id).cloned().collect();
                        if others.is_empty() {
                            next_send = None;
                            relay = None;
                        } else {
                            let first = start + interval.mul_f64(rng.unit());
                            next_send = Some(first);
                            send_timer.as_mut().reset(first);
                            members = Some(others.clone());
                            relay = Some((step, interval, others));
                        }
                    }
                    Phase::Drain => { next_send = None; relay = None; }
                    Phase::Stop => break,
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
                    Ok(ServerMessage::Signal { data, .. }) => {
                        let now = nanos_since(ctx.epoch);
                        let sent_at = data.get("t").and_then(Value::as_u64);
                        let step = data.get("k").and_then(Value::as_u64).map(|k| k as usize);
                        match (sent_at, step) {
                            (Some(t), Some(k)) if k < ctx.steps => {
                                report.received[k] += 1;
                                let us = (now.saturating_sub(t) / 1000).min(u32::MAX as u64) as u32;
                                report.latencies_us[k].push(us);
                                let from = data.get("n").and_then(Value::as_u64);
                                report.split_us[usize::from(from != Some(node as u64))][k].push(us);
                            }
                            _ => report.errors.push("relayed data was altered".into()),
                        }
                    }
                    Ok(ServerMessage::NewPeer(_)) => { ctx.new_peers.fetch_add(1, Ordering::Relaxed); }
                    Ok(ServerMessage::PeerLeft(id)) => {
                        // Churn sockets come and go; only a member we relay to leaving is news.
                        if members.as_ref().is_none_or(|m| m.contains(&id)) {
                            ctx.peer_left.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(ServerMessage::IdAssigned(_)) => report.errors.push("second IdAssigned".into()),
                    Err(e) => report.errors.push(format!("bad server message: {e}")),
                },
                Some(Ok(Message::Close(f))) => {
                    report.errors.push(format!("server closed the socket: {}", close_text(f.as_ref())));
                    return report;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => { report.errors.push(format!("socket: {e}")); return report; }
                None => { report.errors.push("socket ended".into()); return report; }
            },
            _ = &mut send_timer, if next_send.is_some() => {
                let Some((step, interval, others)) = relay.as_ref() else { continue };
                let due = next_send.unwrap_or_else(Instant::now);
                report.max_send_lag = report.max_send_lag.max(due.elapsed());
                let receiver = others[rng.below(others.len())].clone();
                let data = json!({ "t": nanos_since(ctx.epoch), "k": step, "n": node, "p": ctx.payload });
                let text = serde_json::to_string(&ClientMessage::Signal { receiver, data })
                    .unwrap_or_default();
                if let Err(e) = ws.send(Message::Text(text.into())).await {
                    report.errors.push(format!("send: {e}"));
                    return report;
                }
                report.sent[*step] += 1;
                next_send = Some(due + *interval);
                send_timer.as_mut().reset(due + *interval);
            }
            _ = &mut keepalive_timer => {
                let text = serde_json::to_string(&ClientMessage::KeepAlive).unwrap_or_default();
                if let Err(e) = ws.send(Message::Text(text.into())).await {
                    report.errors.push(format!("send keepalive: {e}"));
                    return report;
                }
                report.keepalives += 1;
                next_keepalive += ctx.keepalive.unwrap_or(Duration::from_secs(86_400));
                keepalive_timer.as_mut().reset(next_keepalive);
            }
        }
    }
    let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
    report
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a socket into a room and waits for its `IdAssigned` (bounded: 15 s).
async fn join_room(url: &str) -> Result<(Ws, String), String> {
    timeout(Duration::from_secs(15), async {
        // Small buffers: the default 128 KiB read buffer per socket would make the generator, not
        // the server, run out of memory first. Nagle off, so latency is the server's, not TCP's.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
                    Ok(ServerMessage::IdAssigned(id)) => return Ok((ws, id)),
                    Ok(other) => {
                        return Err(format!("first message was not IdAssigned: {other:?}"))
                    }
                    Err(e) => return Err(format!("bad first message: {e}")),
                },
                Some(Ok(Message::Close(f))) => {
                    return Err(format!(
                        "closed before IdAssigned: {}",
                        close_text(f.as_ref())
                    ))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("socket: {e}")),
                None => return Err("closed before IdAssigned".into()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err("timed out waiting for IdAssigned".into()))
}

/// Joins made while the relay runs: one short-lived socket every `1/rate` s into a room with
/// room to spare, held `hold` and closed. Their join latency is what a person joining a busy
/// server waits for. Returns (latencies in µs, failures).
async fn churn(
    base: String,
    tag: String,
    rooms: Vec<usize>,
    rate: f64,
    hold: Duration,
    until: Instant,
    seed: u64,
) -> (Vec<u32>, BTreeMap<String, u64>) {
    let mut rng = Rng::new(seed);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut tasks = Vec::new();
    while next < until && !rooms.is_empty() {
        sleep_until(next).await;
        next += interval;
        let url = format!("{base}{tag}-{}", rooms[rng.below(rooms.len())]);
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let (mut ws, _) = join_room(&url).await?;
            let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
            sleep(hold).await;
            let _ = timeout(Duration::from_secs(2), ws.close(None)).await;
            Ok::<u32, String>(us)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = BTreeMap::new();
    for t in tasks {
        match timeout(Duration::from_secs(20), t).await {
            Ok(Ok(Ok(us))) => lat.push(us),
            Ok(Ok(Err(e))) => *errors.entry(shorten(&e)).or_default() += 1,
            _ => {
                *errors
                    .entry("churn join did not finish".into())
                    .or_default() += 1
            }
        }
    }
    (lat, errors)
}

fn close_text(f: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match f {
        Some(f) => {
            let code: u16 = f.code.into();
            format!("code {code} {:?}", f.reason.as_str())
        }
        None => "no close frame".into(),
    }
}

/// Raise the soft open-files limit to the hard one: each socket is a descriptor.
fn raise_nofile() -> u64 {
    // SAFETY: plain libc calls on a stack struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                return want.rlim_cur;
            }
        }
        lim.rlim_cur
    }
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime of a process, seconds.
fn proc_cpu_secs(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / if hz > 0.0 { hz } else { 100.0 })
}

/// Microseconds in which some runnable task on this machine waited for a CPU (PSI): when others
/// load the machine, this shows how much of a step's latency is theirs.
fn cpu_pressure_us() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = text.lines().find(|l| l.starts_with("some "))?;
    some.split_whitespace()
        .find_map(|kv| kv.strip_prefix("total="))?
        .parse()
        .ok()
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Refuse anything that is not loopback: this tool is a load test, and load tests here only
/// ever target the machine itself.
async fn check_loopback(url: &str) -> Result<(), String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad --url {url:?}: {e}"))?;
    match uri.scheme_str() {
        Some("ws") => {}
        Some(s) => {
            return Err(format!(
                "--url scheme {s:?}: only ws:// (loopback, no TLS) is supported"
            ))
        }
        None => return Err(format!("--url {url:?} has no scheme")),
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("--url {url:?} has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(format!(
            "refusing {host}: the load generator only targets loopback addresses"
        ));
    }
    Ok(())
}

fn plan_rooms(sockets: usize, (lo, hi): (usize, usize), rng: &mut Rng) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = sockets;
    while left > 0 {
        let mut size = lo + rng.below(hi - lo + 1);
        if size > left {
            size = left;
        }
        // Never leave a lone socket behind: fold it into this room if that stays within MAX,
        // else make this room one smaller so the last has two.
        if left - size == 1 {
            if size < hi {
                size += 1;
            } else {
                size -= 1;
            }
        }
        sizes.push(size);
        left -= size;
    }
    sizes
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("loadgen: {e}");
        std::process::exit(2);
    }
}

async fn run(args: Args) -> Result<(), String> {
    check_loopback(&args.url).await?;
    if args.rate.is_empty() || args.rate.contains(&0) {
        return Err("--rate needs positive rates".into());
    }
    if !(args.duration > 0.0 && args.duration <= 600.0) {
        return Err("--duration must be in (0, 600] seconds".into());
    }
    let nofile = raise_nofile();
    if args.sockets as u64 + 64 > nofile {
        return Err(format!(
            "--sockets {} needs more open files than this process may hold ({nofile}); \
             lower it or raise `ulimit -n`",
            args.sockets
        ));
    }
    let slash = |url: &str| {
        if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        }
    };
    let base = slash(&args.url);
    let cluster_base = match &args.cluster_url {
        Some(url) => {
            check_loopback(url).await?;
            Some(slash(url))
        }
        None => None,
    };
    let mut rng = Rng::new(args.seed);
    let sizes = plan_rooms(args.sockets, args.room_size, &mut rng);
    let run_tag = format!("lg{}x{}", std::process::id(), rng.next() % 1_000_000);
    let expected_new_peers: u64 = sizes.iter().map(|&n| (n * (n - 1) / 2) as u64).sum();

    println!(
        "loadgen: {} sockets in {} rooms of {}..{} against {base} (nofile {nofile})",
        args.sockets,
        sizes.len(),
        args.room_size.0,
        args.room_size.1
    );

    let pid = args.server_pid;
    let rss_before = pid.and_then(|p| proc_status_kb(p, "VmRSS"));
    let rss_before_b = args.cluster_pid.and_then(|p| proc_status_kb(p, "VmRSS"));
    let ctx = Arc::new(Ctx {
        epoch: Instant::now(),
        payload: "x".repeat(args.payload),
        keepalive: (args.keepalive > 0.0).then(|| Duration::from_secs_f64(args.keepalive)),
        connect_gate: Semaphore::new(args.connect_concurrency.max(1)),
        steps: args.rate.len(),
        new_peers: AtomicU64::new(0),
        peer_left: AtomicU64::new(0),
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Connecting);
    let (joined_tx, mut joined_rx) = mpsc::unbounded_channel();

    // Spawn every socket; room r holds sockets [offset, offset + sizes[r]).
    let connect_start = Instant::now();
    let mut tasks = Vec::with_capacity(args.sockets);
    let bases = [Some(base.clone()), cluster_base].map(Option::unwrap_or_default);
    for (room, &size) in sizes.iter().enumerate() {
        for member in 0..size {
            let node = match &args.cluster_url {
                None => 0,
                Some(_) => (room / 2 + member * (room % 2)) % 2,
            };
            let url = format!("{}{run_tag}-{room}", bases[node]);
            let seed = rng.next();
            tasks.push(tokio::spawn(run_socket(
                url,
                (room, node),
                seed,
                ctx.clone(),
                joined_tx.clone(),
                phase_rx.clone(),
            )));
        }
    }
    drop(joined_tx);

    // Sockets report in the order they finish their handshake, with their room and id.
    let mut setups_us: Vec<u32> = Vec::with_capacity(args.sockets);
    let mut connect_errors: BTreeMap<String, u64> = BTreeMap::new();
    let deadline = connect_start + Duration::from_secs_f64(args.connect_timeout);
    let mut rooms: Vec<Vec<String>> = vec![Vec::new(); sizes.len()];
    let mut on_node = [0usize; 2];
    let mut last_join = connect_start;
    while setups_us.len() + (connect_errors.values().sum::<u64>() as usize) < args.sockets {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            joined_rx.recv(),
        )
        .await
        {
            Ok(Some(Ok(j))) => {
                setups_us.push(j.setup.as_micros().min(u32::MAX as u128) as u32);
                rooms[j.room].push(j.id);
                on_node[j.node] += 1;
                last_join = Instant::now();
            }
            Ok(Some(Err(e))) => *connect_errors.entry(shorten(&e)).or_default() += 1,
            Ok(None) => break,
            Err(_) => {
                *connect_errors
                    .entry("connect phase timed out".into())
                    .or_default() += (args.sockets - setups_us.len()) as u64;
                break;
            }
        }
    }
    let connect_secs = last_join.duration_since(connect_start).as_secs_f64();
    let joined = setups_us.len();
    setups_us.sort_unstable();
    let setup_rate = if connect_secs > 0.0 {
        joined as f64 / connect_secs
    } else {
        0.0
    };
    println!(
        "connect: {joined}/{} sockets joined in {connect_secs:.2} s = {setup_rate:.0} conn/s; \
         handshake+IdAssigned p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        args.sockets,
        percentile(&setups_us, 0.5),
        percentile(&setups_us, 0.99),
        percentile(&setups_us, 1.0),
    );
    for (e, n) in &connect_errors {
        println!("  connect error x{n}: {e}");
    }

    // Every earlier member hears NewPeer of every later one: wait for all of them (bounded).
    let np_deadline = Instant::now() + Duration::from_secs(10);
    while ctx.new_peers.load(Ordering::Relaxed) < expected_new_peers && Instant::now() < np_deadline
    {
        sleep(Duration::from_millis(50)).await;
    }
    let new_peers = ctx.new_peers.load(Ordering::Relaxed);
    println!("rooms: {new_peers}/{expected_new_peers} NewPeer notices received");

    // Idle memory: every socket open and quiet (but for keepalives).
    sleep(Duration::from_secs_f64(args.idle_settle)).await;
    let rss_idle = pid.and_then(|p| proc_status_kb(p, "VmRSS"));
    let rss_idle_b = args.cluster_pid.and_then(|p| proc_status_kb(p, "VmRSS"));
    let per_conn = |before: Option<u64>, idle: Option<u64>, sockets: usize| match (before, idle) {
        (Some(a), Some(b)) if sockets > 0 => Some((b as f64 - a as f64) / sockets as f64),
        _ => None,
    };
    let per_conn_kb = per_conn(rss_before, rss_idle, on_node[0]);
    let per_conn_kb_b = per_conn(rss_before_b, rss_idle_b, on_node[1]);
    if let Some(per) = per_conn_kb_b {
        println!(
            "memory: first node {:.2} kB per idle connection ({} sockets), second node {per:.2} kB ({} sockets)",
            per_conn_kb.unwrap_or(f64::NAN),
            on_node[0],
            on_node[1]
        );
    }
    if let (Some(a), Some(b), Some(per)) = (rss_before, rss_idle, per_conn_kb) {
        println!(
            "memory: server VmRSS {a} kB before, {b} kB with {joined} idle sockets = {per:.2} kB per idle connection"
        );
    }

    let rooms = Arc::new(rooms);
    let active: usize = rooms.iter().filter(|r| r.len() >= 2).map(|r| r.len()).sum();
    if active == 0 {
        return Err("no room has two joined sockets; nothing to relay".into());
    }

    // Churn joins go to rooms with four places to spare, so overlapping ones never meet ROOM_FULL.
    let churn_rooms: Vec<usize> = (0..sizes.len())
        .filter(|&r| sizes[r] + 4 <= args.room_size.1)
        .collect();
    let mut step_churn = Vec::new();
    let mut step_cpu = Vec::new();
    let mut step_spans = Vec::new();
    for (step, &rate) in args.rate.iter().enumerate() {
        let interval = Duration::from_secs_f64(active as f64 / rate as f64);
        let cpu0 = pid.and_then(proc_cpu_secs);
        let own0 = proc_cpu_secs(std::process::id());
        let psi0 = cpu_pressure_us();
        let start = Instant::now() + Duration::from_millis(50);
        let _ = phase_tx.send(Phase::Relay {
            step,
            start,
            interval,
            rooms: rooms.clone(),
        });
        let churn_task = (args.churn > 0.0).then(|| {
            tokio::spawn(churn(
                base.clone(),
                run_tag.clone(),
                churn_rooms.clone(),
                args.churn,
                Duration::from_secs_f64(args.churn_hold),
                start + Duration::from_secs_f64(args.duration),
                rng.next(),
            ))
        });
        sleep_until(start + Duration::from_secs_f64(args.duration)).await;
        let cpu1 = pid.and_then(proc_cpu_secs);
        let own1 = proc_cpu_secs(std::process::id());
        let psi1 = cpu_pressure_us();
        let percent = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some((b - a) / args.duration * 100.0),
            _ => None,
        };
        let pressure = match (psi0, psi1) {
            (Some(a), Some(b)) => Some((b - a) as f64 / 1e6 / args.duration * 100.0),
            _ => None,
        };
        step_cpu.push((percent(cpu0, cpu1), percent(own0, own1), pressure));
        step_spans.push(args.duration);
        // Awaited after the last step: its last joins are still held while the next step runs.
        step_churn.push(churn_task);
        println!("step {step}: {rate} msg/s for {} s sent", args.duration);
    }
    let _ = phase_tx.send(Phase::Drain);
    let mut churn_results = Vec::new();
    for task in step_churn {
        churn_results.push(match task {
            Some(t) => t.await.ok(),
            None => None,
        });
    }
    sleep(Duration::from_secs(2)).await;
    let rss_end = pid.and_then(|p| proc_status_kb(p, "VmRSS"));
    let hwm = pid.and_then(|p| proc_status_kb(p, "VmHWM"));
    // Closing our own sockets below makes PeerLefts; only those before it are unexpected.
    let peer_left = ctx.peer_left.load(Ordering::Relaxed);
    let _ = phase_tx.send(Phase::Stop);

    let mut reports = Vec::with_capacity(tasks.len());
    let stop_deadline = Instant::now() + Duration::from_secs(20);
    for t in tasks {
        match timeout(stop_deadline.saturating_duration_since(Instant::now()), t).await {
            Ok(Ok(r)) => reports.push(r),
            Ok(Err(e)) => reports.push(SocketReport {
                errors: vec![format!("task: {e}")],
                ..Default::default()
            }),
            Err(_) => reports.push(SocketReport {
                errors: vec!["did not stop".into()],
                ..Default::default()
            }),
        }
    }

    let mut run_errors: BTreeMap<String, u64> = BTreeMap::new();
    for r in reports.iter().filter(|r| r.joined) {
        for e in &r.errors {
            *run_errors.entry(shorten(e)).or_default() += 1;
        }
    }
    let keepalives: u64 = reports.iter().map(|r| r.keepalives).sum();
    let max_lag = reports
        .iter()
        .map(|r| r.max_send_lag)
        .max()
        .unwrap_or_default();

    let mut steps_json = Vec::new();
    for (step, &rate) in args.rate.iter().enumerate() {
        let mut lat: Vec<u32> = reports
            .iter()
            .flat_map(|r| r.latencies_us[step].iter().copied())
            .collect();
        lat.sort_unstable();
        let sent: u64 = reports.iter().map(|r| r.sent[step]).sum();
        let received: u64 = reports.iter().map(|r| r.received[step]).sum();
        let held = received as f64 / step_spans[step];
        let (p50, p90, p99, max) = (
            percentile(&lat, 0.5),
            percentile(&lat, 0.9),
            percentile(&lat, 0.99),
            percentile(&lat, 1.0),
        );
        let (cpu, own_cpu, pressure) = step_cpu[step];
        let split: Vec<Value> = (0..2)
            .map(|i| {
                let mut lat: Vec<u32> = reports
                    .iter()
                    .flat_map(|r| r.split_us[i][step].iter().copied())
                    .collect();
                lat.sort_unstable();
                json!({ "received": lat.len(), "p50_ms": percentile(&lat, 0.5),
                        "p99_ms": percentile(&lat, 0.99), "max_ms": percentile(&lat, 1.0) })
            })
            .collect();
        println!(
            "relay @ {rate} msg/s: sent {sent}, received {received} ({held:.0} msg/s held), latency \
             p50 {p50:.3} ms p90 {p90:.3} ms p99 {p99:.3} ms max {max:.3} ms{}, generator CPU {:.0}%, CPU pressure {:.0}%",
            cpu.map(|c| format!(", server CPU {c:.0}%")).unwrap_or_default(),
            own_cpu.unwrap_or(f64::NAN),
            pressure.unwrap_or(f64::NAN),
        );
        if args.cluster_url.is_some() {
            println!(
                "  same-node pairs: p99 {:.3} ms ({} msgs); cross-node pairs: p99 {:.3} ms ({} msgs)",
                split[0]["p99_ms"].as_f64().unwrap_or(f64::NAN),
                split[0]["received"],
                split[1]["p99_ms"].as_f64().unwrap_or(f64::NAN),
                split[1]["received"],
            );
        }
        let churn_json = match &churn_results[step] {
            Some((lat, errs)) => {
                let mut lat = lat.clone();
                lat.sort_unstable();
                let failed: u64 = errs.values().sum();
                println!(
                    "  joins during the step: {} ok, {failed} failed; join (connect + IdAssigned) p50 {:.2} ms p99 {:.2} ms",
                    lat.len(),
                    percentile(&lat, 0.5),
                    percentile(&lat, 0.99)
                );
                for (e, n) in errs {
                    println!("    join error x{n}: {e}");
                }
                json!({ "joins": lat.len(), "failed": failed, "errors": errs,
                        "p50_ms": percentile(&lat, 0.5), "p99_ms": percentile(&lat, 0.99) })
            }
            None => Value::Null,
        };
        steps_json.push(json!({
            "churn": churn_json,
            "target_rate": rate, "sent": sent, "received": received, "lost": sent.saturating_sub(received),
            "held_rate": held, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "max_ms": max,
            "server_cpu_percent": cpu, "generator_cpu_percent": own_cpu,
            "cpu_pressure_percent": pressure,
            "same_node": args.cluster_url.is_some().then(|| split[0].clone()),
            "cross_node": args.cluster_url.is_some().then(|| split[1].clone()),
        }));
    }
    println!(
        "keepalives sent: {keepalives}; unexpected PeerLeft: {}; max send lag of the generator: {:.1} ms",
        peer_left,
        max_lag.as_secs_f64() * 1000.0
    );
    for (e, n) in &run_errors {
        println!("  error x{n}: {e}");
    }
    if let Some(h) = hwm {
        println!(
            "server VmHWM {h} kB, VmRSS at end {} kB",
            rss_end.unwrap_or(0)
        );
    }

    let out = json!({
        "url": base,
        "sockets": args.sockets,
        "rooms": sizes.len(),
        "room_size": [args.room_size.0, args.room_size.1],
        "payload_bytes": args.payload,
        "keepalive_s": args.keepalive,
        "churn_per_s": args.churn,
        "duration_s": args.duration,
        "connect": {
            "joined": joined, "seconds": connect_secs, "rate_per_s": setup_rate,
            "p50_ms": percentile(&setups_us, 0.5), "p99_ms": percentile(&setups_us, 0.99),
            "max_ms": percentile(&setups_us, 1.0), "concurrency": args.connect_concurrency,
            "errors": connect_errors,
        },
        "new_peer": { "received": new_peers, "expected": expected_new_peers },
        "memory": {
            "rss_before_kb": rss_before, "rss_idle_kb": rss_idle, "per_idle_conn_kb": per_conn_kb,
            "rss_end_kb": rss_end, "hwm_kb": hwm,
            "sockets_per_node": on_node,
            "second_node": args.cluster_pid.map(|_| json!({ "rss_before_kb": rss_before_b,
                "rss_idle_kb": rss_idle_b, "per_idle_conn_kb": per_conn_kb_b })),
        },
        "steps": steps_json,
        "keepalives": keepalives,
        "unexpected_peer_left": peer_left,
        "max_send_lag_ms": max_lag.as_secs_f64() * 1000.0,
        "errors": run_errors,
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&out).unwrap_or_default())
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Error texts carry ids and numbers; keep their first words so equal causes group together.
fn shorten(e: &str) -> String {
    e.chars().take(90).collect()
}
