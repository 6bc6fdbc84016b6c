//! Raised hands: ours to every admitted peer and in our hello; theirs kept in the order raised.

use super::*;

fn hello(name: &str, hand: Option<u64>) -> PeerMessage {
    PeerMessage::Hello {
        name: name.into(),
        mic: true,
        cam: true,
        signaling_id: None,
        hand,
        share: None,
    }
}

#[test]
fn our_hand_goes_to_every_peer_and_into_our_hello() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let up = PeerMessage::Hand { up: true };
    assert_eq!(
        a.step(1_000, Event::RaiseHand(true)),
        vec![Command::SendToPeer {
            key: kb,
            message: up
        }]
    );
    // Raising it again changes nothing.
    assert!(a.step(1_100, Event::RaiseHand(true)).is_empty());
    // Someone whose channel opens 2.5 s later hears how long ago it went up.
    a.step(3_500, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    let out = a.step(3_500, Event::ChannelOpen(kc));
    assert!(out.contains(&Command::SendToPeer {
        key: kc,
        message: PeerMessage::Hello {
            name: "me".into(),
            mic: true,
            cam: true,
            signaling_id: Some("aaa".into()),
            hand: Some(2_500),
            share: None,
        }
    }));
    // Lowered: both hear it.
    let down = PeerMessage::Hand { up: false };
    assert_eq!(
        a.step(4_000, Event::RaiseHand(false)),
        [kb, kc].map(|key| Command::SendToPeer {
            key,
            message: down.clone()
        })
    );
    let out = a.step(4_000, Event::ChannelOpen(kc));
    assert!(out.iter().any(|c| matches!(
        c,
        Command::SendToPeer {
            message: PeerMessage::Hello { hand: None, .. },
            ..
        }
    )));
}

#[test]
fn peers_hands_keep_the_order_they_were_raised_in() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    let kc = connected(&mut a, "ccc");
    // B raises at 1 s; C, whose hello comes at 5 s, raised 6 s ago: before B.
    assert_eq!(
        a.step(1_000, message(kb, &PeerMessage::Hand { up: true })),
        vec![Command::PeerUpdated { key: kb }]
    );
    a.step(10_000, message(kc, &hello("Cy", Some(6_000))));
    let hand = |a: &Room, k| a.peer(k).unwrap().view().hand;
    assert_eq!(hand(&a, kb), Some(1_000));
    assert_eq!(hand(&a, kc), Some(4_000));
    // A hello again (a rebind) does not move a hand already up.
    a.step(11_000, message(kb, &hello("Bo", Some(99_999_999))));
    assert_eq!(hand(&a, kb), Some(1_000));
    // Down, by Hand or by hello.
    a.step(12_000, message(kb, &PeerMessage::Hand { up: false }));
    a.step(12_000, message(kc, &hello("Cy", None)));
    assert_eq!((hand(&a, kb), hand(&a, kc)), (None, None));
    // Raised before our page loaded (our clock starts at 0): it still goes first.
    a.step(13_000, message(kb, &hello("Bo", Some(20_000))));
    assert_eq!(hand(&a, kb), Some(-7_000));
    a.step(13_000, message(kc, &hello("Cy", Some(u64::MAX))));
    assert_eq!(hand(&a, kc), Some(13_000 - i64::MAX));
    // Lowering a hand that is down is nothing to show.
    a.step(14_000, message(kc, &PeerMessage::Hand { up: false }));
    assert!(a
        .step(14_000, message(kc, &PeerMessage::Hand { up: false }))
        .is_empty());
}
