//! What a connection's `getStats()` counters say about a peer: whether it is speaking (its own
//! word for it, checked against the audio that arrives; for a peer that does not say, or whose
//! word was false, its audio's energy with a hold so the mark does not flicker between words)
//! and how good the connection is (round-trip time, loss, bitrate); and which connections to
//! read when. Pure: the edge reads the counters (`rtc/stats.rs`), this judges them; it never
//! touches the browser.
//!
//! A reading costs the page: in a call of six on two cores, reading every connection each second
//! kept the pages' main threads busy 24-69% of the time against 5-18% for one read a second in all
//! (docs/join-timeline.md). So a connection is read each second only while something needs it
//! (a word to check, a new connection, a peer that does not say when it speaks, and what the
//! room asks for: see `Room::wants_reading`), and otherwise every [`RESTING_READ_MS`].

/// An RMS level (0..1) above which a peer counts as speaking: about -40 dBFS, above the comfort
/// noise of a silent microphone, below quiet speech.
pub const SPEAKING_LEVEL: f64 = 0.01;
/// How long the mark stays after the last loud reading: the pauses between words.
pub const SPEAKING_HOLD_MS: u64 = 1_500;
/// An RMS level (or level) under which audio is silence for checking a peer's word that it
/// speaks: a quarter of [`SPEAKING_LEVEL`] (-52 dBFS), so a word said for a short sound, read
/// over a second of audio, is not taken for a false one.
pub const SILENT_LEVEL: f64 = SPEAKING_LEVEL / 4.0;
/// A peer's word that it speaks is checked with a reading each second until one hears its
/// audio; none in this long of saying so (summed over stretches no reading heard, so turning
/// the word off and on does not start the count again), and it said what is not so: its word
/// counts no more, and only its audio marks it, until a word of it is backed by sound. A word
/// heard once is checked again by the readings at rest: one that hears nothing starts a check.
pub const CLAIM_PROOF_MS: u64 = 3_000;
/// A connection nothing needs read each second is read this often: its quality figures and
/// whether media still arrives.
pub const RESTING_READ_MS: u64 = 5_000;

/// One `getStats()` reading of a connection, summed over what the peer sends us.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// `inbound-rtp` audio: `totalAudioEnergy`, `totalSamplesDuration` (s) and `audioLevel` now.
    pub energy: f64,
    pub seconds: f64,
    pub level: f64,
    /// `inbound-rtp`, every kind: `bytesReceived`, `packetsReceived`, `packetsLost`.
    pub bytes: f64,
    pub packets: f64,
    pub lost: f64,
    /// The round trip (s): RTCP's over the media, else the selected candidate pair's.
    pub rtt: Option<f64>,
    /// The camera's decoded frame size, and its codec (`VP8`) or else the audio's.
    pub width: u32,
    pub height: u32,
    pub codec: String,
    /// Either end of the selected pair is a TURN relay.
    pub relayed: bool,
    /// `media-source` audio: our own microphone's `audioLevel` as this connection sends it.
    pub sent_level: f64,
    /// How long ago (ms) the last packet of any kind arrived (`inbound-rtp`'s
    /// `lastPacketReceivedTimestamp` against the report's time), if one has.
    pub media_age: Option<u64>,
    /// `outbound-rtp` video: our camera's encoder on this connection (None while a screen's
    /// is there too, or there is none).
    pub encoder: Option<super::Encoder>,
}

/// How good a connection is, as its tile's mark shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grade {
    /// Not two readings yet.
    #[default]
    Unknown,
    Poor,
    Fair,
    Good,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Unknown => "unknown",
            Grade::Poor => "poor",
            Grade::Fair => "fair",
            Grade::Good => "good",
        }
    }
}

/// What a tile shows about its connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkView {
    pub speaking: bool,
    /// When the current (or last) stretch of speaking began, to tell the latest speaker.
    pub spoke_at: u64,
    pub grade: Grade,
    /// Round trip in tenths of a millisecond (a LAN's is under one).
    pub rtt_tenths: u32,
    /// Lost packets in tenths of a percent, since the reading before.
    pub loss_permille: u32,
    pub kbps: u32,
    pub width: u32,
    pub height: u32,
    pub codec: String,
    pub relayed: bool,
}

/// One peer's connection, judged reading by reading.
#[derive(Debug, Clone, Default)]
pub struct Link {
    last: Option<(u64, Sample)>,
    loud_at: Option<u64>,
    /// What the peer says of its speaking (`None`: it does not say).
    claim: Option<bool>,
    /// Time it said it spoke that no reading has backed with sound yet: carried over from
    /// stretches no reading heard (a word turned off and on again does not start afresh), and
    /// since when the current stretch runs unbacked (while it says it speaks).
    unbacked_ms: u64,
    checking_since: Option<u64>,
    /// A reading heard its sound during the current stretch.
    stretch_heard: bool,
    /// It said it spoke while its audio was silent: its word counts no more.
    distrusted: bool,
    pub view: LinkView,
}

impl Link {
    /// The peer says it speaks (`Some(true)`), stopped, or does not say (`None`). Shown at once
    /// while its microphone is on (`mic`) and until a check finds it false ([`CLAIM_PROOF_MS`]).
    pub fn claim(&mut self, now: u64, on: Option<bool>, mic: bool) {
        if on == self.claim {
            return;
        }
        if let Some(t) = self.checking_since.take() {
            if !self.stretch_heard {
                self.unbacked_ms += now.saturating_sub(t);
            }
        }
        if on == Some(true) {
            self.checking_since = Some(now);
            self.stretch_heard = false;
        }
        self.claim = on;
        self.mark(now, mic);
    }

    /// Its word is taken: it says when it speaks, and has not said what is not so.
    fn believed(&self) -> bool {
        self.claim.is_some() && !self.distrusted
    }

    /// When the connection was last read (`None`: never).
    pub fn read_at(&self) -> Option<u64> {
        self.last.as_ref().map(|(t, _)| *t)
    }

    /// What the peer last said of its speaking (`None`: it does not say).
    pub fn claimed(&self) -> Option<bool> {
        self.claim
    }

    /// Whether this connection should be read now rather than at rest: fewer than two readings
    /// yet, a peer whose speaking only its audio tells (it does not say, or its word counts no
    /// more), a word that it speaks still to check. Not a poor grade: the figures on the tile
    /// are as good read at rest, and on a starved machine every connection is fair or poor
    /// (round trips of 100-500 ms on two cores for six pages).
    pub fn wants_reading(&self) -> bool {
        self.view.grade == Grade::Unknown || !self.believed() || self.checking_since.is_some()
    }

    /// The mark: the peer's word where it is taken, else its audio (a loud reading within the
    /// hold); never while its microphone is off (`mic`).
    fn mark(&mut self, now: u64, mic: bool) {
        if !mic {
            self.loud_at = None;
        }
        let speaking = mic
            && if self.believed() {
                self.claim == Some(true)
            } else {
                self.loud_at
                    .is_some_and(|t| now.saturating_sub(t) <= SPEAKING_HOLD_MS)
            };
        if speaking && !self.view.speaking {
            self.view.spoke_at = now;
        }
        self.view.speaking = speaking;
    }

    /// Takes the reading made at `now` (ms). `mic`: the peer says its microphone is on; a muted
    /// peer never shows as speaking, whatever arrives. `cam`: it sends video, so a bitrate of a
    /// trickle means trouble.
    pub fn sample(&mut self, now: u64, s: Sample, mic: bool, cam: bool) {
        let v = &mut self.view;
        if let Some((then, last)) = self.last.take().filter(|(then, _)| now > *then) {
            let ms = (now - then) as f64;
            // Counters only grow; one that went back (a new receiver) counts as nothing new.
            let d = |a: f64, b: f64| (a - b).max(0.0);
            let (energy, secs) = (d(s.energy, last.energy), d(s.seconds, last.seconds));
            let rms = if secs > 0.0 {
                (energy / secs).sqrt()
            } else {
                0.0
            };
            let loudness = rms.max(s.level);
            if mic && loudness > SPEAKING_LEVEL {
                self.loud_at = Some(now);
            }
            if loudness >= SILENT_LEVEL {
                // Sound backs the word: what was unbacked is paid, and a peer found out before
                // that speaks while it says so is believed again.
                self.unbacked_ms = 0;
                if self.claim == Some(true) {
                    self.checking_since = None;
                    self.stretch_heard = true;
                    self.distrusted = false;
                }
            } else if self.claim == Some(true) && mic {
                // Heard before in this stretch, silent through this reading: check it again.
                let since = *self.checking_since.get_or_insert(now);
                if self.unbacked_ms + now.saturating_sub(since) >= CLAIM_PROOF_MS {
                    self.distrusted = true;
                }
            }
            let (got, lost) = (d(s.packets, last.packets), d(s.lost, last.lost));
            v.loss_permille = if got + lost > 0.0 {
                (lost * 1000.0 / (got + lost)) as u32
            } else {
                0
            };
            v.kbps = (d(s.bytes, last.bytes) * 8.0 / ms) as u32;
            v.grade = grade(s.rtt.map(|r| r * 1000.0), v.loss_permille, v.kbps, cam);
        }
        self.mark(now, mic);
        let v = &mut self.view;
        v.rtt_tenths = s.rtt.map_or(0, |r| (r * 10_000.0).round() as u32);
        v.width = s.width;
        v.height = s.height;
        v.codec.clone_from(&s.codec);
        v.relayed = s.relayed;
        self.last = Some((now, s));
    }
}

/// Which connections to read this second, of `links`: each with when it was last read and
/// whether it wants a reading now ([`Link::wants_reading`], `Room::wants_reading`). Those that
/// want one, those unread for [`RESTING_READ_MS`] (give or take half a second: the loop's
/// second is not exact), and at least one, the longest unread: any report tells our own
/// microphone's level, which marks our own tile and what we tell the others.
pub fn due<K: Copy>(now: u64, links: &[(K, Option<u64>, bool)]) -> Vec<K> {
    let resting = |last: Option<u64>| last.is_none_or(|t| now + 500 >= t + RESTING_READ_MS);
    let mut out: Vec<K> = links
        .iter()
        .filter(|(_, last, wants)| *wants || resting(*last))
        .map(|(k, _, _)| *k)
        .collect();
    if out.is_empty() {
        out.extend(
            links
                .iter()
                .min_by_key(|(_, last, _)| *last)
                .map(|(k, _, _)| *k),
        );
    }
    out
}

/// Poor: calls break up (over 8% lost, or half a second each way and back); fair: noticeable
/// (2%, 250 ms, or a camera at under 100 kbit/s); else good.
fn grade(rtt_ms: Option<f64>, loss_permille: u32, kbps: u32, cam: bool) -> Grade {
    let rtt = rtt_ms.unwrap_or(0.0);
    if loss_permille >= 80 || rtt >= 500.0 {
        Grade::Poor
    } else if loss_permille >= 20 || rtt >= 250.0 || (cam && kbps < 100) {
        Grade::Fair
    } else {
        Grade::Good
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
