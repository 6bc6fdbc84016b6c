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
        (2, 2_500, 1_062, 1.0), // (2500 - 2 x 70) x 90% / 2
        (3, 2_500, 687, 1.5),
        (4, 2_500, 499, 2.0),
        (5, 2_500, 387, 2.0),
        (7, 2_500, 258, 2.0),
        (11, 2_500, 141, 4.0),
        (3, 1_000, 237, 4.0),
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
    // Within the budget on the wire (audio, headers, the connection's own traffic), wherever
    // the floor does not decide, and an operator's budget too large for any sum is no overflow.
    for n in 1..=12usize {
        let l = limit_for(n, DEFAULT_UPLOAD_KBPS);
        assert!(total_kbps(&vec![l; n]) <= DEFAULT_UPLOAD_KBPS, "{n}");
        assert_eq!(limit_for(n, u32::MAX).video_bps, VIDEO_MAX_KBPS * 1_000);
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

/// What `limits` put on the wire: each encoder's rate with its headers, and what every peer
/// costs besides.
fn total_kbps(limits: &[SendLimit]) -> u32 {
    limits
        .iter()
        .map(|l| (l.video_bps + l.screen_bps.unwrap_or(0)) / 10 / ENCODER_PERCENT + RESERVED_KBPS)
        .sum()
}

#[test]
fn a_small_tile_gets_what_it_shows_and_the_others_share_what_it_leaves() {
    let even = limit_for(3, DEFAULT_UPLOAD_KBPS);
    let small = Want {
        tile: Some((320, 240)),
    };
    let limits = plan(&[Want::default(), small, Want::default()], 2_500, false);
    // 320x240 device pixels: what the camera halved (320 across) carries, 499 kbit/s at most.
    assert_eq!(
        limits[1],
        SendLimit {
            video_bps: 499_000,
            scale_down: 2.0,
            screen_bps: None
        }
    );
    // The two others: ((2500 - 3 x 70) x 90% - 499) / 2 each, more than the even 687.
    assert_eq!(limits[0].video_bps, 781_000);
    assert_eq!(limits[0], limits[2]);
    assert!(limits[0].video_bps > even.video_bps);
    assert!(total_kbps(&limits) <= DEFAULT_UPLOAD_KBPS);
}

#[test]
fn a_tile_claim_only_ever_lowers_what_that_peer_gets_and_stays_bounded() {
    let even = limit_for(2, DEFAULT_UPLOAD_KBPS);
    for tile in [
        (1_920, 1_080),
        (4_096, 4_096),
        (u32::MAX, u32::MAX),
        (u32::MAX, 1),
        (0, 0),
        (1, 1),
    ] {
        let limits = plan(
            &[Want { tile: Some(tile) }, Want::default()],
            DEFAULT_UPLOAD_KBPS,
            false,
        );
        let claimed = limits[0].video_bps;
        assert!(claimed <= even.video_bps, "{tile:?}: {claimed}");
        assert!(claimed >= VIDEO_MIN_KBPS * 1_000, "{tile:?}: the floor");
        assert!(limits[1].video_bps >= even.video_bps, "{tile:?}");
        assert!(limits[1].video_bps <= VIDEO_MAX_KBPS * 1_000, "{tile:?}");
        assert!(total_kbps(&limits) <= DEFAULT_UPLOAD_KBPS, "{tile:?}");
    }
    // A hidden tile (0 x 0) gets the floor, not nothing: the picture comes back at once.
    assert_eq!(tile_kbps(0, 0), VIDEO_MIN_KBPS);
    // A tile as wide as the camera, or as tall as its 4:3 picture at that width, takes it whole.
    assert_eq!(tile_kbps(640, 100), VIDEO_MAX_KBPS);
    assert_eq!(tile_kbps(100, 480), VIDEO_MAX_KBPS);
    assert_eq!(tile_kbps(435, 272), 999);
    assert_eq!(tile_kbps(200, 120), 249);
    assert_eq!(tile_kbps(u32::MAX, u32::MAX), VIDEO_MAX_KBPS);
}

#[test]
fn a_screen_share_takes_the_largest_part_of_every_connection() {
    for n in 1..=7usize {
        let limits = plan(&vec![Want::default(); n], DEFAULT_UPLOAD_KBPS, true);
        for l in &limits {
            let screen = l.screen_bps.expect("a limit for the screen");
            assert!(screen > l.video_bps, "{n} peers: {l:?}");
            assert!(
                l.video_bps >= VIDEO_MIN_KBPS * 1_000,
                "{n}: the camera moves"
            );
        }
        assert!(
            total_kbps(&limits) <= DEFAULT_UPLOAD_KBPS,
            "{n}: {limits:?}"
        );
    }
    // Two people: each connection's 1,062 kbit/s goes 708 to the screen, 354 to the camera.
    let two = plan(&[Want::default(); 2], DEFAULT_UPLOAD_KBPS, true);
    assert_eq!(
        two[0],
        SendLimit {
            video_bps: 354_000,
            scale_down: 2.0,
            screen_bps: Some(708_000)
        }
    );
    // A small camera tile leaves its screen more: the camera needs only what the tile shows.
    let small = plan(
        &[Want {
            tile: Some((100, 60)),
        }],
        DEFAULT_UPLOAD_KBPS,
        true,
    );
    assert_eq!(small[0].video_bps, VIDEO_MIN_KBPS * 1_000);
    assert_eq!(
        small[0].screen_bps,
        Some(
            ((DEFAULT_UPLOAD_KBPS - RESERVED_KBPS) * ENCODER_PERCENT / 100 - VIDEO_MIN_KBPS)
                * 1_000
        )
    );
}

#[test]
fn a_peers_shown_size_changes_only_its_own_and_the_others_limits() {
    let mut r = room("aaa");
    let kb = connected(&mut r, "bbb");
    let kc = connected(&mut r, "ccc");
    r.fit_uplink();
    let small = PeerMessage::Shown {
        width: 320,
        height: 240,
    };
    let out = step(&mut r, 1, message(kb, &small));
    let want = |tile| Want { tile };
    let expected = plan(
        &[want(Some((320, 240))), want(None)],
        DEFAULT_UPLOAD_KBPS,
        false,
    );
    assert_eq!(out, [(kb, expected[0]), (kc, expected[1])]);
    // The same claim again changes nothing.
    assert!(step(&mut r, 2, message(kb, &small)).is_empty());
    // Our screen share: every connection gets a screen limit.
    let out = step(&mut r, 3, Event::LocalShare(Some("screen-1".into())));
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|(_, l)| l.screen_bps.is_some()), "{out:?}");
}

#[test]
fn we_tell_a_peer_how_large_we_show_it_once_per_change_of_a_step() {
    let mut r = room("aaa");
    let kb = connected(&mut r, "bbb");
    let told = |r: &mut Room, t, w, h| {
        r.step(
            t,
            Event::Shown {
                key: kb,
                width: w,
                height: h,
            },
        )
    };
    assert_eq!(
        told(&mut r, 1, 650, 490),
        vec![Command::SendToPeer {
            key: kb,
            message: PeerMessage::Shown {
                width: 640,
                height: 480
            }
        }]
    );
    // A few pixels of layout shift: the same step, nothing sent.
    assert!(told(&mut r, 2, 660, 500).is_empty());
    assert_eq!(told(&mut r, 3, 320, 240).len(), 1);
    // Nobody is told about a peer we do not know.
    assert!(r
        .step(
            4,
            Event::Shown {
                key: 999,
                width: 1,
                height: 1
            }
        )
        .is_empty());
}

#[test]
fn a_limit_the_browser_refused_is_set_again_a_few_times_and_a_new_one_always() {
    let mut r = room("aaa");
    let kb = connected(&mut r, "bbb");
    let limit = limits(&r.fit_uplink());
    assert_eq!(limit.len(), 1);
    assert!(step(&mut r, 1, Event::Tick).is_empty());
    for t in 0..u64::from(LIMIT_RETRIES) {
        assert_eq!(
            step(&mut r, 2 + t, Event::LimitFailed(kb)),
            limit,
            "retry {t}"
        );
        assert!(step(&mut r, 2 + t, Event::Tick).is_empty());
    }
    // Refused every time: not asked again at every step ...
    assert!(step(&mut r, 10, Event::LimitFailed(kb)).is_empty());
    assert!(step(&mut r, 11, Event::Tick).is_empty());
    // ... until the limit changes (someone joins), which gets its own retries.
    let out = step(&mut r, 12, Event::PeerJoined("ccc".into()));
    assert_eq!(out, [(kb, limit_for(2, DEFAULT_UPLOAD_KBPS))]);
    assert_eq!(step(&mut r, 13, Event::LimitFailed(kb)), out);
}
