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

#[test]
fn a_camera_smaller_than_640_is_not_scaled_below_the_steps_width() {
    // (planned scale, camera width) -> scaleResolutionDownBy.
    let table = [
        (2.0, 640, 2.0),  // the camera the steps assume: as planned
        (2.0, 320, 1.0),  // 320 wide already: sent whole, not at 160
        (4.0, 320, 2.0),  // the steps' 160 across
        (1.5, 320, 1.0),  // never scaled up
        (2.0, 1280, 2.0), // wider: as planned
        (1.0, 160, 1.0),
        (2.0, 0, 2.0), // width unknown
    ];
    for (scale, width, want) in table {
        assert_eq!(camera_scale(scale, width), want, "{scale} x {width}");
    }
}

/// A reading of our camera's encoder towards `key` at `now`: allowed `target` kbit/s, and
/// `bytes` sent in all.
fn reading(r: &mut Room, now: u64, key: PeerKey, target: u32, bytes: u64) {
    let encoder = Some(Encoder {
        target_kbps: target,
        bytes_sent: bytes,
    });
    assert!(r
        .step(
            now,
            Event::Flow {
                key,
                received: 0,
                media_age: None,
                encoder,
            },
        )
        .is_empty());
}

/// Bytes an encoder sends in a second at `kbps`.
const fn second_at(kbps: u64) -> u64 {
    kbps * 1_000 / 8
}

/// The scale each connection was last given, in the order of `keys`.
fn scales(r: &Room, keys: &[PeerKey]) -> Vec<f32> {
    keys.iter()
        .map(|k| r.peers[k].send_limit.map_or(0.0, |l| l.scale_down))
        .collect()
}

/// Our room with three peers connected, and their keys.
fn three_connected() -> (Room, Vec<PeerKey>) {
    let mut r = room("aaa");
    let keys = ["bbb", "ccc", "ddd"]
        .into_iter()
        .map(|id| connected(&mut r, id))
        .collect();
    (r, keys)
}

#[test]
fn a_small_camera_goes_whole_unless_its_encoder_is_held_below_its_share() {
    let (mut r, keys) = three_connected();
    let kb = keys[0];
    // Three copies of 687 kbit/s: 1.5 times smaller as planned for a 640 camera.
    r.fit_uplink();
    assert_eq!(scales(&r, &keys), [1.5; 3]);
    // Our camera gives 320x240: 640 / 1.5 is wider than that, so it goes out whole.
    step(&mut r, 0, Event::Camera { long_side: 320 });
    assert_eq!(scales(&r, &keys), [1.0; 3]);

    // Each second: towards bbb the encoder is allowed 230 kbit/s and sends 220 (a 1 Mbit/s
    // uplink shared by three: the link holds it back); towards ccc allowed its 687 and sends
    // 300; towards ddd allowed 230 but sends 50 (a picture that needs little leaves the
    // estimate where it started: that says nothing of the link).
    let mut sent = [0u64; 3];
    let mut second = |r: &mut Room, t: u64, b: (u32, u64)| {
        for (i, (key, (target, kbps))) in keys.iter().zip([b, (687, 300), (230, 50)]).enumerate() {
            sent[i] += second_at(kbps);
            reading(r, t * 1_000, *key, target, sent[i]);
        }
        step(r, t * 1_000, Event::Tick)
    };
    assert!(
        second(&mut r, 0, (230, 220)).is_empty(),
        "the first reading: no rate yet"
    );
    // Two readings short are a dip: nothing changes.
    for t in 1..3 {
        assert!(second(&mut r, t, (230, 220)).is_empty(), "reading {t}");
    }
    // The third: bbb's picture is sized from the 230 kbit/s it is allowed, the step of 160
    // across: half our camera; and only bbb's, the bitrate limit the plan's.
    let out = second(&mut r, 3, (230, 220));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, kb);
    assert_eq!(out[0].1.video_bps, 687_000);
    assert_eq!(scales(&r, &keys), [2.0, 1.0, 1.0]);
    // Allowed 300 for a second (which carries 320 across) and 230 around it: within the band,
    // the size stays; a reading without figures changes nothing either.
    assert!(second(&mut r, 4, (300, 290)).is_empty());
    assert!(second(&mut r, 5, (230, 220)).is_empty());
    assert!(r
        .step(
            5_500,
            Event::Flow {
                key: kb,
                received: 0,
                media_age: None,
                encoder: None
            }
        )
        .is_empty());
    // Allowed 300 for three readings: the whole camera again.
    for t in 6..8 {
        second(&mut r, t, (300, 290));
    }
    assert_eq!(scales(&r, &keys), [2.0, 1.0, 1.0]);
    second(&mut r, 8, (300, 290));
    assert_eq!(scales(&r, &keys), [1.0; 3]);
    // Short again, then readings in which it sends well under what it is allowed: a picture
    // made smaller needs less, and the estimate is not raised for what nobody sends, so that
    // says nothing of the link: it stays small.
    for t in 9..12 {
        second(&mut r, t, (230, 220));
    }
    assert_eq!(scales(&r, &keys), [2.0, 1.0, 1.0]);
    for t in 12..16 {
        assert!(second(&mut r, t, (230, 100)).is_empty(), "reading {t}");
    }
    // Three readings allowed its part (80% of 687 or more) end it: whole again.
    for t in 16..19 {
        second(&mut r, t, (600, 300));
    }
    assert_eq!(scales(&r, &keys), [1.0; 3]);
}

#[test]
fn readings_under_an_old_part_or_another_camera_or_a_share_start_afresh() {
    let (mut r, keys) = three_connected();
    let kb = keys[0];
    step(&mut r, 0, Event::Camera { long_side: 640 });
    // A hard picture at its 687 kbit/s cap, using all of it: the link carries the part.
    let mut bytes = 0;
    for t in 0..4 {
        reading(&mut r, t * 1_000, kb, 687, bytes);
        bytes += second_at(680);
        step(&mut r, t * 1_000, Event::Tick);
    }
    assert_eq!(scales(&r, &keys), [1.5; 3]);
    // ddd fails: the part grows to 1,062. The readings at the old cap are under 80% of it and
    // fully used, but they were taken under the old limit: whole, as planned, not short.
    let failed = Event::NegotiationFailed {
        key: keys[2],
        error: "x".into(),
    };
    let two = limit_for(2, DEFAULT_UPLOAD_KBPS);
    assert_eq!(step(&mut r, 4_000, failed), [(kb, two), (keys[1], two)]);
    // Short for three readings: smaller...
    for t in 5..8 {
        reading(&mut r, t * 1_000, kb, 400, bytes);
        bytes += second_at(390);
        step(&mut r, t * 1_000, Event::Tick);
    }
    assert_eq!(scales(&r, &keys[..2]), [2.0, 1.0]);
    // ... until another camera: its encoder's readings are not yet known, the plan's size.
    step(&mut r, 8_000, Event::Camera { long_side: 1_280 });
    assert_eq!(scales(&r, &keys[..2]), [1.0, 1.0]);
    for t in 9..13 {
        reading(&mut r, t * 1_000, kb, 400, bytes);
        bytes += second_at(390);
        step(&mut r, t * 1_000, Event::Tick);
    }
    assert_eq!(scales(&r, &keys[..2]), [2.0, 1.0]);
    // A screen share begins: the plan alone; when it ends, the readings start afresh too.
    step(&mut r, 13_000, Event::LocalShare(Some("screen-1".into())));
    step(&mut r, 14_000, Event::LocalShare(None));
    assert_eq!(scales(&r, &keys[..2]), [1.0, 1.0]);
}

#[test]
fn a_link_short_of_its_plan_shrinks_a_full_camera_too_but_never_a_screen_share_connection() {
    let mut r = room("aaa");
    let kb = connected(&mut r, "bbb");
    step(&mut r, 0, Event::Camera { long_side: 640 });
    // One copy: 1,500 kbit/s, whole.
    r.fit_uplink();
    assert_eq!(scales(&r, &[kb]), [1.0]);
    // Allowed 700 and using it, for three readings: 1.5 times smaller.
    for t in 0..4 {
        reading(&mut r, t * 1_000, kb, 700, t * second_at(690));
    }
    assert_eq!(step(&mut r, 4_000, Event::Tick).len(), 1);
    assert_eq!(scales(&r, &[kb]), [1.5]);
    // Allowed 1,400 (over 80% of 1,500) for three readings: it carries the plan, whole again.
    for t in 4..7 {
        let bytes = 3 * second_at(690) + (t - 3) * second_at(1_300);
        reading(&mut r, t * 1_000, kb, 1_400, bytes);
        step(&mut r, t * 1_000, Event::Tick);
    }
    assert_eq!(scales(&r, &[kb]), [1.0]);
    // While we share a screen the readings are not the camera's alone: the plan decides.
    let mut r = room("aaa");
    let kb = connected(&mut r, "bbb");
    step(&mut r, 0, Event::LocalShare(Some("screen-1".into())));
    let planned = r.peers[&kb].send_limit.expect("a limit");
    for t in 0..5 {
        reading(&mut r, t * 1_000, kb, 100, t * second_at(100));
    }
    step(&mut r, 5_000, Event::Tick);
    assert_eq!(r.peers[&kb].send_limit, Some(planned));
    // A reading for a peer we do not know changes nothing.
    reading(&mut r, 6_000, 999, 1, 1);
}

#[test]
fn sized_keeps_the_size_within_the_band_of_what_the_encoder_was_allowed() {
    let three = limit_for(3, DEFAULT_UPLOAD_KBPS); // 687 kbit/s, 1.5
                                                   // Allowed 230-300 lately: a 320 camera at 160 across (230) or whole (300).
    for (current, want) in [
        (None, 2.0),
        (Some(2.0), 2.0),
        (Some(1.0), 1.0),
        (Some(4.0), 2.0),
    ] {
        assert_eq!(
            sized(three, Some((230, 300)), 320, current).scale_down,
            want,
            "{current:?}"
        );
    }
    // A 640 camera: 4 and 2 are the band's ends.
    assert_eq!(sized(three, Some((230, 300)), 640, None).scale_down, 4.0);
    assert_eq!(
        sized(three, Some((230, 300)), 640, Some(1.5)).scale_down,
        2.0
    );
    // Never a larger picture than the plan's, however much it was allowed.
    assert_eq!(
        sized(three, Some((5_000, 9_000)), 640, None).scale_down,
        1.5
    );
    // Not short: the plan, fitted to the camera.
    assert_eq!(sized(three, None, 320, Some(4.0)).scale_down, 1.0);
    assert_eq!(sized(three, None, 0, None).scale_down, 1.5);
}

/// A connection whose readings may still make it short, or have, is read each second; one that
/// carries its part, or whose picture needs less than it may send, is read at rest.
#[test]
fn a_link_that_may_fall_short_is_read_each_second() {
    let (mut r, keys) = three_connected();
    r.fit_uplink();
    let mut sent = [0u64; 3];
    let mut wanted = Vec::new();
    for t in 0..4u64 {
        for (i, (key, (target, kbps))) in keys
            .iter()
            .zip([(230, 220), (687, 300), (230, 50)])
            .enumerate()
        {
            sent[i] += second_at(kbps);
            let encoder = Some(Encoder {
                target_kbps: target,
                bytes_sent: sent[i],
            });
            r.step(
                t * 1_000,
                Event::Flow {
                    key: *key,
                    received: t,
                    media_age: Some(10),
                    encoder,
                },
            );
        }
        r.fit_uplink();
        wanted.push(keys.iter().map(|k| r.wants_reading(*k)).collect::<Vec<_>>());
    }
    // Until three readings are in, every one; then only the link held back (bbb).
    assert_eq!(wanted[0], [true; 3]);
    assert_eq!(wanted[2], [true; 3]);
    assert_eq!(wanted[3], [true, false, false]);
}

/// While we share our screen the plan alone applies (the encoders are not told apart), so the
/// encoder's readings decide nothing and ask for no reading each second.
#[test]
fn while_we_share_the_uplink_asks_for_no_readings() {
    let (mut r, keys) = three_connected();
    r.fit_uplink();
    let flow = |t: u64| Event::Flow {
        key: keys[0],
        received: t,
        media_age: Some(10),
        encoder: Some(Encoder {
            target_kbps: 100,
            bytes_sent: t * second_at(100),
        }),
    };
    r.step(0, flow(0));
    r.step(1_000, flow(1));
    r.fit_uplink();
    assert!(r.wants_reading(keys[0]), "a short reading to judge");
    r.step(1_500, Event::LocalShare(Some("screen".into())));
    r.step(2_000, flow(2));
    r.fit_uplink();
    assert!(!r.wants_reading(keys[0]));
}
