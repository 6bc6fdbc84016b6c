//! A connection's readings judged: who speaks (by its word, checked, or by its audio), the
//! grade, which connections are read when.

use super::*;
use crate::room::link::{CLAIM_PROOF_MS, SPEAKING_LEVEL};

/// A reading `t` seconds in, with `energy` of audio so far and 1 Mbit/s of media.
fn at(t: u64, energy: f64) -> Sample {
    Sample {
        energy,
        seconds: t as f64,
        bytes: t as f64 * 125_000.0,
        packets: t as f64 * 100.0,
        rtt: Some(0.02),
        codec: "VP8".into(),
        ..Sample::default()
    }
}

#[test]
fn speaking_follows_the_energy_with_a_hold() {
    let mut link = Link::default();
    // (second, energy so far, speaking after it): 0.01 of energy per second is an RMS of 0.1.
    let steps = [
        (0, 0.0, false),
        (1, 0.0, false),      // silence
        (2, 0.01, true),      // talks
        (3, 0.02, true),      // goes on
        (4, 0.02, true),      // a pause: held
        (5, 0.02, false),     // 2 s of silence: over
        (6, 0.020_01, false), // comfort noise (RMS 0.003) is not speech
    ];
    for (t, energy, speaking) in steps {
        link.sample(t * 1000, at(t, energy), true, true);
        assert_eq!(link.view.speaking, speaking, "at {t} s");
    }
    assert_eq!(link.view.spoke_at, 2000);
}

#[test]
fn a_muted_peer_never_speaks() {
    let mut link = Link::default();
    link.sample(0, at(0, 0.0), true, true);
    link.sample(1000, at(1, 0.01), true, true);
    assert!(link.view.speaking);
    // It mutes: the mark goes at once, not after the hold, and loud audio does not bring it.
    link.sample(2000, at(2, 0.02), false, true);
    assert!(!link.view.speaking);
    link.sample(3000, at(3, 0.03), false, true);
    assert!(!link.view.speaking);
}

#[test]
fn the_level_alone_also_counts() {
    let mut link = Link::default();
    link.sample(0, at(0, 0.0), true, true);
    link.sample(
        1000,
        Sample {
            level: 0.2,
            ..at(1, 0.0)
        },
        true,
        true,
    );
    assert!(link.view.speaking);
}

#[test]
fn the_figures_and_the_grade() {
    let mut link = Link::default();
    link.sample(0, at(0, 0.0), true, true);
    assert_eq!(link.view.grade, Grade::Unknown, "one reading says no rate");
    link.sample(1000, at(1, 0.0), true, true);
    let v = &link.view;
    assert_eq!(
        (v.rtt_tenths, v.kbps, v.loss_permille, v.grade),
        (200, 1000, 0, Grade::Good)
    );
    assert_eq!(v.codec, "VP8");
    // (rtt s, packets lost in the next second of 100, kbit/s, cam) -> grade
    let cases = [
        (0.02, 0.0, 1000.0, true, Grade::Good),
        (0.3, 0.0, 1000.0, true, Grade::Fair),
        (0.6, 0.0, 1000.0, true, Grade::Poor),
        (0.02, 3.0, 1000.0, true, Grade::Fair),
        (0.02, 10.0, 1000.0, true, Grade::Poor),
        (0.02, 0.0, 50.0, true, Grade::Fair),
        (0.02, 0.0, 50.0, false, Grade::Good),
    ];
    for (rtt, lost, kbps, cam, grade) in cases {
        let mut link = Link::default();
        link.sample(0, at(0, 0.0), true, cam);
        let s = Sample {
            rtt: Some(rtt),
            lost,
            packets: 100.0 - lost,
            bytes: kbps * 125.0,
            ..at(1, 0.0)
        };
        link.sample(1000, s, true, cam);
        assert_eq!(link.view.grade, grade, "{rtt} {lost} {kbps} {cam}");
    }
}

/// Two quiet readings a second apart: a good connection, nothing heard.
fn settled(claim: Option<bool>) -> Link {
    let mut link = Link::default();
    link.claim(0, claim, true);
    link.sample(0, at(0, 0.0), true, true);
    link.sample(1000, at(1, 0.0), true, true);
    link
}

#[test]
fn a_peer_that_says_it_speaks_is_marked_at_once_and_read_at_rest_when_quiet() {
    let mut link = settled(Some(false));
    assert!(
        !link.wants_reading(),
        "quiet, good, and it says when it speaks"
    );
    link.claim(1500, Some(true), true);
    assert!(link.view.speaking, "marked on its word, before any reading");
    assert_eq!(link.view.spoke_at, 1500);
    assert!(link.wants_reading(), "its word is checked each second");
    // Its audio carries the sound: the word stands, as long as it is said.
    for t in 2..=8 {
        link.sample(t * 1000, at(t, 0.01 * (t - 1) as f64), true, true);
        assert!(link.view.speaking, "at {t} s");
    }
    // Heard: the word is proven, the connection read at rest again.
    assert!(!link.wants_reading());
    // Read at rest while it talks on (five seconds of sound in the reading): still believed.
    link.sample(13_000, at(13, 0.12), true, true);
    assert!((link.view.speaking, link.wants_reading()) == (true, false));
    // It stops: the mark goes with its word (the speaker's own hold is in it).
    link.claim(13_500, Some(false), true);
    assert!(!link.view.speaking);
    assert!(!link.wants_reading());
    // Muted, its word marks nothing.
    link.claim(14_000, Some(true), false);
    assert!(!link.view.speaking);
}

/// The attack: a stranger says it speaks all the time (to hold the large tile of the speaker
/// view) while sending silence. Found out within [`CLAIM_PROOF_MS`] and a reading, then
/// marked by its audio alone, and read each second as a peer that does not say, until its
/// word is backed by sound.
#[test]
fn a_peer_that_says_it_speaks_while_silent_is_found_out() {
    let mut link = settled(Some(false));
    link.claim(1500, Some(true), true);
    assert!(link.view.speaking);
    let mut t = 2;
    while link.view.speaking {
        link.sample(t * 1000, at(t, 0.000_000_1), true, true);
        t += 1;
        assert!(t < 10, "never found out");
    }
    assert!((t - 1) * 1000 <= 1500 + CLAIM_PROOF_MS + 1000);
    // Its word counts no more: said again, off and on, it marks nothing.
    link.claim(t * 1000, Some(false), true);
    link.claim(t * 1000 + 1, Some(true), true);
    assert!(!link.view.speaking);
    assert!(link.wants_reading());
    // Its audio still marks it when it carries sound.
    let next = t + 1;
    link.sample(next * 1000, at(next, 0.01), true, true);
    assert!(link.view.speaking);
}

/// The attack on the check: a stranger turns its false word off and on again just before
/// each check would end. The time it said so adds up over the stretches: found out.
#[test]
fn turning_a_false_word_off_and_on_does_not_start_the_check_again() {
    let mut link = settled(Some(false));
    let mut t = 1_500u64;
    link.claim(t, Some(true), true);
    while !link.distrusted {
        for _ in 0..2 {
            t += 1_000;
            link.sample(t, at(t / 1000, 0.0), true, true);
        }
        t += 900;
        link.claim(t, Some(false), true);
        t += 100;
        link.claim(t, Some(true), true);
        assert!(t < 10_000, "never found out");
    }
    assert!(!link.view.speaking);
}

/// A peer found out once (its audio stopped mid-sentence while its word could not arrive:
/// a network outage) is believed again once a word of it is backed by sound.
#[test]
fn a_word_backed_by_sound_is_believed_again() {
    let mut link = settled(Some(false));
    link.claim(1_500, Some(true), true);
    for t in 2..=8 {
        link.sample(t * 1000, at(t, 0.0), true, true);
    }
    assert!(link.distrusted);
    link.claim(9_000, Some(false), true);
    link.claim(10_000, Some(true), true);
    link.sample(11_000, at(11, 0.01), true, true);
    assert!(!link.distrusted && link.view.speaking);
    assert!(!link.wants_reading(), "at rest again");
}

/// A short sound (a word, a cough) read over a second of audio is far below the speaking
/// level, and the sender's hold keeps its word on after it: that word is true.
#[test]
fn a_short_sound_proves_the_word() {
    let mut link = settled(Some(false));
    link.claim(1500, Some(true), true);
    // A tenth of a second at an RMS of 0.012 within the next second: 0.1 * 0.012^2 of energy.
    let sound = 0.1 * 0.012 * 0.012;
    link.sample(2000, at(2, sound), true, true);
    assert!(!link.wants_reading(), "proven");
    link.sample(3000, at(3, sound), true, true);
    link.claim(3500, Some(false), true);
    link.sample(4000, at(4, sound), true, true);
    link.claim(7000, Some(true), true);
    assert!(link.view.speaking, "believed again");
}

/// A word proven once and kept on through silence (the stranger spoke a moment, then holds
/// the mark): a reading at rest that hears nothing starts the check afresh.
#[test]
fn a_word_kept_on_through_silence_is_checked_again() {
    let mut link = settled(Some(false));
    link.claim(1500, Some(true), true);
    link.sample(2000, at(2, 0.01), true, true);
    assert!(!link.wants_reading());
    link.sample(7000, at(7, 0.01), true, true);
    assert!(link.view.speaking);
    assert!(link.wants_reading(), "checked again");
    let mut t = 8;
    while link.view.speaking {
        link.sample(t * 1000, at(t, 0.01), true, true);
        t += 1;
        assert!(t < 20, "never found out");
    }
    assert!((t - 1) * 1000 <= 2000 + CLAIM_PROOF_MS + 5000);
}

#[test]
fn a_new_connection_or_a_peer_that_does_not_say_is_read_each_second() {
    assert!(Link::default().wants_reading(), "no reading yet");
    assert!(
        settled(None).wants_reading(),
        "it does not say when it speaks"
    );
    // A poor connection's figures are read at rest like a good one's.
    let mut link = settled(Some(false));
    let lossy = Sample {
        lost: 10.0,
        packets: 190.0,
        ..at(2, 0.0)
    };
    link.sample(2000, lossy, true, true);
    assert_eq!(link.view.grade, Grade::Poor);
    assert!(!link.wants_reading());
}

#[test]
fn which_connections_are_read_this_second() {
    // (key, last read, wants a reading)
    assert_eq!(due::<u8>(10_000, &[]), Vec::<u8>::new());
    let links = [
        (1, Some(9_000), true),
        (2, Some(9_000), false),
        (3, None, false),
    ];
    assert_eq!(due(10_000, &links), vec![1, 3], "wanted, and never read");
    let links = [
        (1, Some(5_600), false),
        (2, Some(5_400), false),
        (3, Some(9_000), false),
    ];
    assert_eq!(
        due(10_000, &links),
        vec![2],
        "at rest for 5 s, give or take the loop's half second"
    );
    let links = [
        (1, Some(8_000), false),
        (2, Some(7_000), false),
        (3, Some(9_000), false),
    ];
    assert_eq!(
        due(10_000, &links),
        vec![2],
        "one each second at least: the longest unread"
    );
}

#[test]
fn counters_that_go_back_count_as_nothing() {
    let mut link = Link::default();
    link.sample(0, at(5, 0.5), true, true);
    link.sample(1000, at(1, 0.0), true, true);
    assert_eq!((link.view.kbps, link.view.speaking), (0, false));
}

/// Our own microphone is judged over the whole interval since a connection's reading before, as
/// the peers' audio is: a word said between two readings counts though the moment of the
/// reading is silent (the instant level alone missed it, and our mark, and what we tell the
/// others, flickered with the readings at rest).
#[test]
fn our_level_counts_the_whole_interval() {
    let sent = |t: f64, energy: f64, level: f64| Sample {
        sent_energy: energy,
        sent_seconds: t,
        sent_level: level,
        ..Sample::default()
    };
    let mut link = Link::default();
    // Never read before: the level at the moment is all there is.
    assert_eq!(link.sent_loudness(&sent(1.0, 0.0, 0.2)), 0.2);
    link.sample(1_000, sent(1.0, 0.0, 0.0), true, true);
    // Five seconds later (a connection at rest), silent at the moment, but 0.0005 of energy
    // came in between: an RMS of 0.01, speaking.
    let loud = sent(6.0, 0.0005, 0.0);
    assert!(link.sent_loudness(&loud) >= SPEAKING_LEVEL * 0.99);
    link.sample(6_000, loud, true, true);
    // Then silence over the next interval, whatever the instant says.
    assert_eq!(link.sent_loudness(&sent(7.0, 0.0005, 0.0)), 0.0);
    // A counter that went back (a new sender): the level at the moment.
    assert_eq!(link.sent_loudness(&sent(0.5, 0.0, 0.3)), 0.3);
}
