use super::*;
use serde_json::json;

/// A queue of 8 messages in rooms of up to 4, messages of up to 100 bytes: 2 messages and 1124
/// bytes (100 + the envelope) per sender, 6 for all peers' signals, 2 kept for the server's own.
fn shares() -> Shares {
    Shares::new(8, 2000, 4, 100)
}

fn peer() -> (PeerHandle, mpsc::Receiver<Outbound>) {
    let shares = shares();
    let (tx, rx) = mpsc::channel(shares.messages);
    let handle = PeerHandle {
        tx,
        backlog: Backlog::new(shares),
        too_slow: CancellationToken::new(),
    };
    (handle, rx)
}

/// Takes what waits, as the socket task does, releasing each message's share.
fn drain(handle: &PeerHandle, rx: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(m) = rx.try_recv() {
        handle.backlog.release(m.from.as_ref(), m.text.len());
        out.push(m.text.as_str().to_owned());
    }
    out
}

fn id(s: &str) -> Arc<str> {
    Arc::from(s)
}

#[test]
fn shares_leave_room_for_the_server() {
    let s = shares();
    assert_eq!(
        (s.per_sender_messages, s.signal_messages, s.messages),
        (2, 6, 8)
    );
    assert_eq!(s.per_sender_bytes, 1124);
    let d = Shares::new(
        crate::limits::DEFAULT_OUTBOUND_QUEUE,
        crate::limits::OUTBOUND_QUEUE_BYTES,
        crate::limits::DEFAULT_MAX_PEERS_PER_ROOM,
        crate::limits::DEFAULT_MAX_MESSAGE_BYTES,
    );
    // Four whole join bursts (an answer and 20 candidates) fit in one sender's share...
    assert_eq!(d.per_sender_messages, 85);
    assert!(d.per_sender_bytes > crate::limits::DEFAULT_MAX_MESSAGE_BYTES);
    // ...and all eleven others together leave room for the server's own messages.
    assert!(d.signal_messages < d.messages && d.signal_bytes < d.bytes);
    assert_eq!(d.bytes, crate::limits::OUTBOUND_QUEUE_BYTES);
}

#[test]
fn join_relay_leave() {
    let rooms = Rooms::default();
    let (a, mut ra) = peer();
    let (b, mut rb) = peer();
    assert_eq!(rooms.join("r", &"a".into(), a.clone(), 12), Ok(1));
    assert_eq!(rooms.join("r", &"b".into(), b.clone(), 12), Ok(2));
    assert_eq!(
        drain(&a, &mut ra),
        [r#"{"IdAssigned":"a"}"#, r#"{"NewPeer":"b"}"#]
    );
    assert_eq!(drain(&b, &mut rb), [r#"{"IdAssigned":"b"}"#]);

    assert_eq!(rooms.relay("r", &id("b"), "a", json!(1)), Relay::Delivered);
    assert_eq!(
        drain(&a, &mut ra),
        [r#"{"Signal":{"sender":"b","data":1}}"#]
    );
    assert_eq!(
        rooms.relay("r", &id("b"), "zz", json!(1)),
        Relay::UnknownReceiver
    );
    assert_eq!(
        rooms.relay("other", &id("b"), "a", json!(1)),
        Relay::UnknownReceiver
    );

    assert_eq!(rooms.leave("r", &"b".into()), 1);
    assert_eq!(drain(&a, &mut ra), [r#"{"PeerLeft":"b"}"#]);
    assert_eq!(rooms.leave("r", &"a".into()), 0);
    assert_eq!(rooms.stats(), Stats { rooms: 0, peers: 0 });
}

#[test]
fn log_tags_tell_rooms_apart_without_naming_them() {
    let rooms = Rooms::default();
    let tag = rooms.log_tag("standup-7f3k");
    assert_eq!(tag.len(), 8);
    assert!(!tag.contains("standup"));
    assert_eq!(rooms.log_tag("standup-7f3k"), tag);
    assert_ne!(rooms.log_tag("standup-7f3l"), tag);
    // Another run keys them differently.
    assert_ne!(Rooms::default().log_tag("standup-7f3k"), tag);
}

#[test]
fn full_room_refuses() {
    let rooms = Rooms::default();
    let (a, _ra) = peer();
    rooms.join("r", &"a".into(), a, 1).unwrap();
    let (b, _rb) = peer();
    assert_eq!(
        rooms.join("r", &"b".into(), b, 1),
        Err(JoinError::RoomFull { max: 1 })
    );
}

#[test]
fn a_flooder_fills_only_its_own_share_and_the_receiver_stays() {
    let rooms = Rooms::default();
    let (a, mut ra) = peer();
    rooms.join("r", &"a".into(), a.clone(), 4).unwrap();
    // a reads nothing from here on. The flooder gets its 2 messages in, then loses the rest.
    let flood: Vec<Relay> = (0..50)
        .map(|i| rooms.relay("r", &id("flooder"), "a", json!(i)))
        .collect();
    assert_eq!(flood[..2], [Relay::Delivered, Relay::Delivered]);
    assert!(flood[2..].iter().all(|r| *r == Relay::OverShare));
    // Others still get through, and so do the server's own messages.
    assert_eq!(
        rooms.relay("r", &id("b"), "a", json!("hi")),
        Relay::Delivered
    );
    let (c, _rc) = peer();
    rooms.join("r", &"c".into(), c, 4).unwrap();
    assert!(!a.too_slow.is_cancelled());
    let got = drain(&a, &mut ra);
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got.contains(&r#"{"Signal":{"sender":"b","data":"hi"}}"#.to_owned()));
    assert_eq!(got.last().unwrap(), r#"{"NewPeer":"c"}"#);
    // Once written, the flooder's share is free again.
    assert_eq!(
        rooms.relay("r", &id("flooder"), "a", json!(1)),
        Relay::Delivered
    );
}

#[test]
fn shares_count_bytes_too() {
    let rooms = Rooms::default();
    let (a, mut ra) = peer();
    rooms.join("r", &"a".into(), a.clone(), 4).unwrap();
    drain(&a, &mut ra);
    // 1124 bytes per sender: a ~700-byte message fits once, not twice.
    let big = json!("x".repeat(660));
    assert_eq!(
        rooms.relay("r", &id("x"), "a", big.clone()),
        Relay::Delivered
    );
    assert_eq!(
        rooms.relay("r", &id("x"), "a", big.clone()),
        Relay::OverShare
    );
    assert_eq!(
        rooms.relay("r", &id("y"), "a", big.clone()),
        Relay::Delivered
    );
    drain(&a, &mut ra);
    assert_eq!(rooms.relay("r", &id("x"), "a", big), Relay::Delivered);
}

#[test]
fn many_senders_together_never_take_the_servers_part() {
    let rooms = Rooms::default();
    let (a, mut ra) = peer();
    rooms.join("r", &"a".into(), a.clone(), 4).unwrap();
    drain(&a, &mut ra);
    // Senders that come and go (fresh ids) fill the 6 places for signals, no more.
    let delivered = (0..20)
        .filter(|i| rooms.relay("r", &id(&format!("s{i}")), "a", json!(i)) == Relay::Delivered)
        .count();
    assert_eq!(delivered, 6);
    // The server's 2 places stay: membership news still reaches a.
    let (b, _rb) = peer();
    rooms.join("r", &"b".into(), b, 4).unwrap();
    rooms.leave("r", &"b".into());
    assert!(!a.too_slow.is_cancelled());
    // A third unread server message means a is not reading at all: only then is it dropped.
    let (c, _rc) = peer();
    rooms.join("r", &"c".into(), c, 4).unwrap();
    assert!(a.too_slow.is_cancelled());
}
