//! Admission: in a room with a key, a peer gets our media, our name and a tile only once its proof
//! checks; without the key, with another one, or through swapped fingerprints it gets nothing and
//! the person is told in one line.

use super::*;
use crate::trust::{my_proof, Fingerprints, RoomKey};

fn key() -> RoomKey {
    RoomKey::from_fragment("#the-room-key-0123456789")
        .unwrap()
        .unwrap()
}

fn keyed_room(id: &str) -> Room {
    let mut r = Room::new("me", true, true).with_key(Some(key()));
    assert!(r.step(0, Event::IdAssigned(id.into())).is_empty());
    r
}

/// `them` joins a keyed room and the connection comes up to the open channel; returns its key
/// and everything the room said on the way.
fn up_to_the_channel(r: &mut Room, them: &str) -> (PeerKey, Vec<Command>) {
    let mut out = r.step(0, Event::PeerJoined(them.into()));
    let key = r.key_of(them).unwrap();
    for event in [
        Event::LocalDescription {
            key,
            kind: SdpKind::Offer,
            sdp: OFFER_A.into(),
        },
        signal(them, PeerSignal::Answer(ANSWER_B.into())),
        Event::ConnectionState {
            key,
            state: ConnState::Connected,
        },
        Event::ChannelOpen(key),
        secured(key, them),
    ] {
        out.extend(r.step(0, event));
    }
    (key, out)
}

/// The proof `them` sends: made with `with` over the connection as it sees it.
fn proof_from(them: &str, with: Option<&RoomKey>, sees: &Fingerprints) -> PeerMessage {
    PeerMessage::Proof {
        token: their_token(them),
        key_id: with.map(RoomKey::id),
        mac: with.map(|k| my_proof(k, sees)),
    }
}

/// What `them` sees of our connection when nothing sits in between.
fn seen_by(them: &str) -> Fingerprints {
    let ours = fingerprints(them);
    let [(a, b), (c, d)] = [ours.remote, ours.local].map(|f| {
        let (alg, hex) = f.split_once(' ').unwrap();
        (alg.to_owned(), hex.to_owned())
    });
    Fingerprints::new((&a, &b), (&c, &d))
}

fn is_tile_or_media(c: &Command) -> bool {
    matches!(c, Command::PeerUpdated { .. } | Command::AllowMedia { .. })
        || matches!(
            c,
            Command::SendToPeer {
                message: PeerMessage::Hello { .. }
                    | PeerMessage::Media { .. }
                    | PeerMessage::Speaking { .. }
                    | PeerMessage::Pong,
                ..
            }
        )
}

#[test]
fn a_peer_with_the_key_gets_media_name_and_tile_only_after_its_proof() {
    let mut a = keyed_room("aaa");
    let (kb, out) = up_to_the_channel(&mut a, "bbb");
    assert!(
        !out.iter().any(is_tile_or_media),
        "nothing before the proof: {out:?}"
    );
    // Our own proof went out as soon as the fingerprints were known.
    assert!(out.contains(&Command::SendToPeer {
        key: kb,
        message: PeerMessage::Proof {
            token: my_token("bbb"),
            key_id: Some(key().id()),
            mac: Some(my_proof(&key(), &fingerprints("bbb"))),
        }
    }));
    // Until it proves itself, what it sends is not answered and our toggles do not reach it.
    assert!(a.step(1, message(kb, &PeerMessage::Ping)).is_empty());
    assert!(a
        .step(
            1,
            Event::LocalMedia {
                mic: false,
                cam: true
            }
        )
        .is_empty());
    assert!(a.step(1, Event::Heartbeat).is_empty());
    // Nor whether we speak.
    assert!(a.step(1, Event::LocalSpeaking(true)).is_empty());
    // Its own word that it speaks (sent after its hello, once its verdict on us was in) shows
    // nothing yet, and is not lost: it says it again only when it changes.
    assert!(a
        .step(1, message(kb, &PeerMessage::Speaking { on: true }))
        .is_empty());
    let out = a.step(
        2,
        message(kb, &proof_from("bbb", Some(&key()), &seen_by("bbb"))),
    );
    assert_eq!(
        out,
        vec![
            Command::AllowMedia { key: kb },
            Command::SendToPeer {
                key: kb,
                message: PeerMessage::Hello {
                    name: "me".into(),
                    mic: false,
                    cam: true,
                    signaling_id: Some("aaa".into()),
                    hand: None,
                    share: None,
                }
            },
            Command::SendToPeer {
                key: kb,
                message: PeerMessage::Speaking { on: true }
            },
            Command::PeerUpdated { key: kb },
        ]
    );
    assert_eq!(a.peer(kb).unwrap().view().speaking, Some(true));
    assert_eq!(
        a.step(3, message(kb, &PeerMessage::Ping)),
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Pong
        }]
    );
}

#[test]
fn a_proof_before_our_fingerprints_waits_for_them() {
    let mut a = keyed_room("aaa");
    a.step(0, Event::PeerJoined("bbb".into()));
    let kb = a.key_of("bbb").unwrap();
    a.step(0, Event::ChannelOpen(kb));
    let proof = proof_from("bbb", Some(&key()), &seen_by("bbb"));
    assert!(a.step(1, message(kb, &proof)).is_empty());
    // Its hello (after its proof) waits too.
    let hello = PeerMessage::Hello {
        name: "Bob".into(),
        mic: true,
        cam: true,
        signaling_id: Some("bbb".into()),
        hand: None,
        share: None,
    };
    assert!(a.step(1, message(kb, &hello)).is_empty());
    let out = a.step(2, secured(kb, "bbb"));
    assert!(out.contains(&Command::AllowMedia { key: kb }), "{out:?}");
    assert_eq!(a.peer(kb).unwrap().name, "Bob");
}

/// Turned away: the connection closes, no tile ever, and one notice.
fn refused(out: &[Command], key: PeerKey, notice: Notice) {
    assert_eq!(
        out,
        [removal(key, Why::Refused), vec![Command::Notice(notice)]].concat(),
        "{out:?}"
    );
}

#[test]
fn without_the_key_or_with_another_a_peer_gets_nothing() {
    let other = RoomKey::from_fragment("#a-different-room-key-000")
        .unwrap()
        .unwrap();
    // An open-room client: its hello comes without a proof before it.
    let mut a = keyed_room("aaa");
    let (kb, _) = up_to_the_channel(&mut a, "bbb");
    let hello = PeerMessage::Hello {
        name: "Eve".into(),
        mic: true,
        cam: true,
        signaling_id: None,
        hand: None,
        share: None,
    };
    refused(&a.step(1, message(kb, &hello)), kb, Notice::NoKey);
    // What it sends afterwards is not answered, and it is not called again.
    assert!(a
        .step(2, signal("bbb", PeerSignal::Offer(OFFER_OTHER_PC.into())))
        .is_empty());
    assert!(a.step(2, Event::PeerJoined("bbb".into())).is_empty());
    assert_eq!(a.peers().count(), 0);

    // A proof without a key, or with another key.
    for with in [None, Some(&other)] {
        let mut a = keyed_room("aaa");
        let (kb, _) = up_to_the_channel(&mut a, "bbb");
        let out = a.step(1, message(kb, &proof_from("bbb", with, &seen_by("bbb"))));
        refused(&out, kb, Notice::NoKey);
    }

    // It turns us away first (another key) and closes before its proof reached us.
    let mut a = keyed_room("aaa");
    let (kb, _) = up_to_the_channel(&mut a, "bbb");
    refused(&a.step(1, Event::ChannelClosed(kb)), kb, Notice::NoKey);

    // Silence about the key.
    let mut a = keyed_room("aaa");
    let (kb, _) = up_to_the_channel(&mut a, "bbb");
    assert!(a.step(ADMISSION_TIMEOUT_MS - 1, Event::Tick).is_empty());
    refused(
        &a.step(ADMISSION_TIMEOUT_MS, Event::Tick),
        kb,
        Notice::NoKey,
    );
}

#[test]
fn swapped_fingerprints_fail_the_proof_and_warn() {
    // A signaling server in the middle gave bbb its own certificate instead of ours: bbb has the
    // key, but sees a connection to someone else.
    let mut a = keyed_room("aaa");
    let (kb, _) = up_to_the_channel(&mut a, "bbb");
    let sees = Fingerprints::new(("sha-256", "bbb"), ("sha-256", "EE:EE"));
    let out = a.step(1, message(kb, &proof_from("bbb", Some(&key()), &sees)));
    refused(&out, kb, Notice::Mismatch);
}

#[test]
fn a_bad_peer_is_refused_while_the_others_keep_their_call() {
    let mut a = keyed_room("aaa");
    let (kb, _) = up_to_the_channel(&mut a, "bbb");
    a.step(
        1,
        message(kb, &proof_from("bbb", Some(&key()), &seen_by("bbb"))),
    );
    let (ke, _) = up_to_the_channel(&mut a, "eve");
    let out = a.step(2, message(ke, &proof_from("eve", None, &seen_by("eve"))));
    refused(&out, ke, Notice::NoKey);
    assert_eq!(a.peer(kb).unwrap().state, PeerState::Connected);
    assert_eq!(
        a.step(3, message(kb, &PeerMessage::Ping)),
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Pong
        }]
    );
}
