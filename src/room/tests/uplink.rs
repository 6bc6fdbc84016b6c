//! Uplink: one upload budget for the whole mesh, audio first, the video of each connection
//! shrinking as people join and growing back as they leave, never renegotiated.

use super::*;

/// One step, then what the uplink asks for after it (as the session does).
fn step(r: &mut Room, now: u64, event: Event) -> Vec<(PeerKey, SendLimit)> {
    let out = r.step(now, event);
    assert!(
        !out.iter().any(|c| matches!(c, Command::LimitSend { .. })),
        "limits come only from fit_uplink: {out:?}"
    );
    limits(&r.fit_uplink())
}

fn limits(out: &[Command]) -> Vec<(PeerKey, SendLimit)> {
    out.iter()
        .filter_map(|c| match c {
            Command::LimitSend { key, limit } => Some((*key, *limit)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_budget_is_divided_after_audio_and_never_exceeded() {
    // (people we send to, budget) -> video kbit/s per copy, resolution scale.
    let table = [
        (1, 2_500, 1_500, 1.0), // one copy: capped, the camera's own size
        (2, 2_500, 1_210, 1.0), // (2500 - 2 x 40) / 2
        (3, 2_500, 793, 1.5),
        (4, 2_500, 585, 1.5),
        (5, 2_500, 460, 2.0),
        (7, 2_500, 317, 2.0),
        (11, 2_500, 187, 4.0),
        (3, 1_000, 293, 2.0),
        (8, 500, 100, 4.0), // below the floor: a small picture that still moves
        (0, 2_500, 1_500, 1.0),
    ];
    for (n, budget, kbps, scale) in table {
        let l = limit_for(n, budget);
        assert_eq!(
            (l.video_bps, l.scale_down),
            (kbps * 1_000, scale),
            "{n} peers, {budget} kbit/s"
        );
    }
    // Within the budget, audio included, wherever the floor does not decide.
    for n in 1..=12u32 {
        let l = limit_for(n as usize, DEFAULT_UPLOAD_KBPS);
        assert!(
            n * (l.video_bps / 1_000 + AUDIO_KBPS) <= DEFAULT_UPLOAD_KBPS,
            "{n}"
        );
    }
}

fn up(key: PeerKey) -> Event {
    Event::ConnectionState {
        key,
        state: ConnState::Connected,
    }
}

#[test]
fn each_connection_gets_its_limit_once_it_is_up_and_a_new_one_as_the_mesh_changes() {
    let mut r = room("aaa");
    // Not up yet: nothing to limit (its senders have no parameters before negotiation).
    assert!(step(&mut r, 0, Event::PeerJoined("bbb".into())).is_empty());
    let kb = r.key_of("bbb").unwrap();
    let one = limit_for(1, DEFAULT_UPLOAD_KBPS);
    assert_eq!(step(&mut r, 1, up(kb)), [(kb, one)]);
    // Nothing changed, nothing sent again.
    assert!(step(&mut r, 2, Event::Tick).is_empty());

    // A second person joins: as soon as we call them the first connection's share shrinks, and
    // theirs is given when their connection is up.
    let two = limit_for(2, DEFAULT_UPLOAD_KBPS);
    assert_eq!(
        step(&mut r, 3, Event::PeerJoined("ccc".into())),
        [(kb, two)]
    );
    let kc = r.key_of("ccc").unwrap();
    assert_eq!(step(&mut r, 4, up(kc)), [(kc, two)]);
    assert_ne!(one, two);

    // They leave: the one left gets the whole budget back.
    assert_eq!(step(&mut r, 5, Event::PeerLeft("ccc".into())), [(kb, one)]);
}

#[test]
fn the_operators_budget_counts_and_a_failed_peer_frees_its_share() {
    let mut r = room("aaa").upload_kbps(900);
    let kb = connected(&mut r, "bbb");
    let kc = connected(&mut r, "ccc");
    assert_eq!(
        limits(&r.fit_uplink()),
        [(kb, limit_for(2, 900)), (kc, limit_for(2, 900))]
    );
    let failed = Event::NegotiationFailed {
        key: kc,
        error: "x".into(),
    };
    assert_eq!(step(&mut r, 5, failed), [(kb, limit_for(1, 900))]);
}

#[test]
fn in_a_keyed_room_a_peer_held_back_takes_no_share() {
    let key = crate::trust::RoomKey::from_fragment("#abcdefghijkmnpqrstuvwxyz2")
        .unwrap()
        .unwrap();
    let mut r = Room::new("me", true, true).with_key(Some(key));
    r.step(0, Event::IdAssigned("aaa".into()));
    r.step(0, Event::PeerJoined("bbb".into()));
    let kb = r.key_of("bbb").unwrap();
    // Connected, but it has not proven the key: it gets nothing, so no limit either.
    assert!(step(&mut r, 1, up(kb)).is_empty());
}
