//! Screen share: ours announced to every admitted peer and in our hello; theirs handed to the edge.

use super::*;

fn share(stream: Option<&str>) -> PeerMessage {
    PeerMessage::Share {
        stream: stream.map(str::to_owned),
    }
}

#[test]
fn our_share_is_announced_to_every_peer_and_to_those_who_come_later() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    assert_eq!(
        a.step(1, Event::LocalShare(Some("screen-1".into()))),
        vec![Command::SendToPeer {
            key: kb,
            message: share(Some("screen-1"))
        }]
    );
    assert!(a
        .step(2, Event::LocalShare(Some("screen-1".into())))
        .is_empty());
    a.step(3, Event::PeerJoined("ccc".into()));
    let kc = a.key_of("ccc").unwrap();
    let out = a.step(3, Event::ChannelOpen(kc));
    assert!(
        out.iter().any(|c| matches!(c,
            Command::SendToPeer { key, message: PeerMessage::Hello { share: Some(s), .. } }
                if *key == kc && s == "screen-1")),
        "{out:?}"
    );
    assert_eq!(
        a.step(4, Event::LocalShare(None)),
        [kb, kc].map(|key| Command::SendToPeer {
            key,
            message: share(None)
        })
    );
}

#[test]
fn a_peers_share_goes_to_the_edge_and_its_tile() {
    let mut a = room("aaa");
    let kb = connected(&mut a, "bbb");
    assert_eq!(
        a.step(1, message(kb, &share(Some("s1")))),
        vec![
            Command::RemoteShare {
                key: kb,
                stream: Some("s1".into())
            },
            Command::PeerUpdated { key: kb }
        ]
    );
    assert!(a.peer(kb).unwrap().view().share);
    // Said again: nothing new.
    assert!(a.step(2, message(kb, &share(Some("s1")))).is_empty());
    // Ids no browser makes change nothing.
    for bad in ["", &"x".repeat(MAX_STREAM_ID_CHARS + 1)] {
        assert!(a.step(3, message(kb, &share(Some(bad)))).is_empty());
    }
    assert!(a.peer(kb).unwrap().view().share);
    // In a hello too (after a rebind), and stopping.
    let hello = PeerMessage::Hello {
        name: "Bo".into(),
        mic: true,
        cam: true,
        signaling_id: None,
        hand: None,
        share: Some("s2".into()),
    };
    let out = a.step(4, message(kb, &hello));
    assert!(out.contains(&Command::RemoteShare {
        key: kb,
        stream: Some("s2".into())
    }));
    let out = a.step(5, message(kb, &share(None)));
    assert_eq!(
        out[0],
        Command::RemoteShare {
            key: kb,
            stream: None
        }
    );
    assert!(!a.peer(kb).unwrap().view().share);
}
