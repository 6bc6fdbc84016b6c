//! Files: what an announcement may be, what may arrive, and how a transfer ends.

use super::*;

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const MB: u64 = 1 << 20;

fn label(size: &str, name: &str) -> String {
    format!("{size}:{HASH}:{name}")
}

#[test]
fn an_announcement_reads_back_as_written() {
    let file = Announce {
        size: 5 * MB,
        sha256: HASH.into(),
        name: "report: final.pdf".into(),
    };
    assert_eq!(file.label(), format!("5242880:{HASH}:report: final.pdf"));
    assert_eq!(Announce::parse(&file.label()), Some(file));
}

#[test]
fn malformed_announcements_are_refused() {
    let cases = [
        String::new(),
        "meshcall".into(),
        "12:abc:x".into(),
        label("", "x"),
        label("-1", "x"),
        label("1e3", "x"),
        label("1234567890123456", "x"),
        format!("12:{}:x", HASH.to_uppercase()),
        format!("12:{}0:x", HASH),
        label("12", ""),
        label("12", " \u{202e}\u{200b} "),
        label("0", "empty.txt"),
    ];
    for l in &cases {
        assert_eq!(admit(l, 100 * MB, 0, 0), Err(Refusal::Malformed), "{l:?}");
    }
}

#[test]
fn names_lose_paths_and_invisible_characters() {
    let f = Announce::parse(&label("3", "../../etc/\u{202e}fdp.exe\u{0000}")).unwrap();
    assert_eq!(f.name, ".._.._etc_fdp.exe");
    let long = Announce::parse(&label("3", &"é".repeat(500))).unwrap();
    assert_eq!(long.name.chars().count(), MAX_FILE_NAME_CHARS);
}

#[test]
fn the_cap_bounds_each_file_and_all_that_arrives_together() {
    let cap = 100 * MB;
    assert!(admit(&label(&cap.to_string(), "a"), cap, 0, 0).is_ok());
    let over = (cap + 1).to_string();
    assert_eq!(
        admit(&label(&over, "a"), cap, 0, 0),
        Err(Refusal::TooBig(100))
    );
    // 60 MB arriving already: another 60 MB would make 120.
    let sixty = (60 * MB).to_string();
    assert_eq!(
        admit(&label(&sixty, "b"), cap, 0, 60 * MB),
        Err(Refusal::TooBig(100))
    );
    assert!(admit(&label(&sixty, "b"), cap, 0, 40 * MB).is_ok());
    // A size near u64::MAX cannot wrap around the sum.
    assert_eq!(
        admit(&label("999999999999999", "c"), cap, 0, u64::MAX - 5),
        Err(Refusal::TooBig(100))
    );
}

#[test]
fn one_peer_sends_a_few_files_at_once_not_more() {
    for n in 0..MAX_ARRIVING_PER_PEER {
        assert!(admit(&label("10", "a"), MB, n, 0).is_ok(), "{n}");
    }
    assert_eq!(
        admit(&label("10", "a"), MB, MAX_ARRIVING_PER_PEER, 0),
        Err(Refusal::Busy)
    );
}

#[test]
fn pieces_are_whole_chunks_then_the_rest() {
    let size = 2 * CHUNK + 10;
    let mut a = Arriving::new(size, 0);
    assert_eq!(a.piece(Some(CHUNK), 1), Ok(false));
    assert_eq!(a.piece(Some(CHUNK), 2), Ok(false));
    assert_eq!(a.received(), 2 * CHUNK);
    assert_eq!(a.piece(Some(10), 3), Ok(true));
    assert_eq!(a.received(), size);
}

#[test]
fn a_piece_out_of_line_ends_the_transfer() {
    let cases: &[(u64, &[Option<u64>], Refusal)] = &[
        // More than announced, in one piece or after the last.
        (100, &[Some(200)], Refusal::Overflow),
        (CHUNK + 1, &[Some(CHUNK), Some(2)], Refusal::Overflow),
        // Too small (a flood of tiny messages), too big, empty, or text.
        (3 * CHUNK, &[Some(1)], Refusal::BadPiece),
        (3 * CHUNK, &[Some(CHUNK + 1)], Refusal::BadPiece),
        (3 * CHUNK, &[Some(CHUNK), Some(0)], Refusal::BadPiece),
        (3 * CHUNK, &[None], Refusal::BadPiece),
        (10, &[Some(9)], Refusal::BadPiece),
    ];
    for (size, pieces, want) in cases {
        let mut a = Arriving::new(*size, 0);
        let (last, before) = pieces.split_last().unwrap();
        for p in before {
            assert_eq!(a.piece(*p, 0), Ok(false), "{size} {pieces:?}");
        }
        assert_eq!(a.piece(*last, 0), Err(*want), "{size} {pieces:?}");
    }
}

#[test]
fn a_file_that_stops_arriving_is_given_up() {
    let mut a = Arriving::new(3 * CHUNK, 1_000);
    assert!(!a.stalled(1_000 + STALL_MS - 1));
    a.piece(Some(CHUNK), 20_000).unwrap();
    assert!(!a.stalled(20_000 + STALL_MS - 1));
    assert!(a.stalled(20_000 + STALL_MS));
}

#[test]
fn a_sent_file_ends_as_its_legs_end() {
    use Leg::*;
    let cases: &[(&[Leg], u64, FileState)] = &[
        (&[Sending(0), Sending(0)], 0, FileState::Sending),
        (&[Sending(100), Received], 150, FileState::Sending),
        (&[Stopped, Sending(50)], 125, FileState::Sending),
        (&[Received, Received], 200, FileState::Sent(2)),
        (&[Received, Stopped], 200, FileState::Sent(1)),
        (&[Stopped, Stopped], 200, FileState::Cancelled),
        (&[], 0, FileState::Cancelled),
    ];
    for (legs, done, state) in cases {
        assert_eq!(sent(200, legs), (*done, state.clone()), "{legs:?}");
    }
}

#[test]
fn files_go_to_and_come_from_admitted_peers_only() {
    let mut r = room("me");
    let a = connected(&mut r, "a");
    assert_eq!(r.file_peers(), vec![a]);
    assert_eq!(r.file_sender(a, 0).as_deref(), Some(""));
    // A peer whose channel is not open yet gets nothing; an unknown one sends nothing.
    r.step(0, Event::PeerJoined("b".into()));
    let b = r.key_of("b").unwrap();
    assert_eq!(r.file_peers(), vec![a]);
    assert_eq!(r.file_sender(b + 100, 0), None);
    // In a room with a key, a peer that has not proven it neither.
    let mut keyed = Room::new("me", true, true).with_key(
        crate::trust::RoomKey::from_fragment("#the-room-key-0123456789")
            .ok()
            .flatten(),
    );
    keyed.step(0, Event::IdAssigned("me".into()));
    keyed.step(0, Event::PeerJoined("c".into()));
    let c = keyed.key_of("c").unwrap();
    keyed.step(0, Event::ChannelOpen(c));
    assert!(keyed.file_peers().is_empty());
    assert_eq!(keyed.file_sender(c, 0), None);
}

#[test]
fn a_flood_of_files_spends_the_channel_budget() {
    let mut r = room("me");
    let a = connected(&mut r, "a");
    let took = (0..100).filter(|_| r.file_sender(a, 1).is_some()).count();
    // The proof and the opening took a little of the burst already.
    assert!(took < CHANNEL_BURST as usize && took > 30, "{took}");
    assert_eq!(r.file_sender(a, 1), None);
    assert!(r.file_sender(a, 1_000).is_some(), "the budget refills");
}

#[test]
fn every_refusal_has_a_sentence() {
    for r in [
        Refusal::Malformed,
        Refusal::TooBig(100),
        Refusal::Busy,
        Refusal::Overflow,
        Refusal::BadPiece,
        Refusal::Corrupt,
        Refusal::Stalled,
    ] {
        let s = r.sentence();
        assert!(s.ends_with('.') && s.len() > 20, "{s}");
    }
    assert_eq!(
        Refusal::TooBig(100).sentence(),
        "Refused: files can be at most 100 MB."
    );
}
