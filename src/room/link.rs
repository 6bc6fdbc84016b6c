//! What a connection's `getStats()` counters say about a peer, read every second: whether it is
//! speaking (its audio's energy, with a hold so the mark does not flicker between words) and how
//! good the connection is (round-trip time, loss, bitrate). Pure: the edge reads the counters
//! (`rtc/stats.rs`), this judges them; it never touches the browser.

/// An RMS level (0..1) above which a peer counts as speaking: about -40 dBFS, above the comfort
/// noise of a silent microphone, below quiet speech.
pub const SPEAKING_LEVEL: f64 = 0.01;
/// How long the mark stays after the last loud reading: the pauses between words.
pub const SPEAKING_HOLD_MS: u64 = 1_500;

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
    /// Lost packets in tenths of a percent, over the last second.
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
    pub view: LinkView,
}

impl Link {
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
            if mic && rms.max(s.level) > SPEAKING_LEVEL {
                if !v.speaking {
                    v.spoke_at = now;
                }
                self.loud_at = Some(now);
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
        if !mic {
            self.loud_at = None;
        }
        v.speaking = self
            .loud_at
            .is_some_and(|t| now.saturating_sub(t) <= SPEAKING_HOLD_MS);
        v.rtt_tenths = s.rtt.map_or(0, |r| (r * 10_000.0).round() as u32);
        v.width = s.width;
        v.height = s.height;
        v.codec.clone_from(&s.codec);
        v.relayed = s.relayed;
        self.last = Some((now, s));
    }
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

    #[test]
    fn counters_that_go_back_count_as_nothing() {
        let mut link = Link::default();
        link.sample(0, at(5, 0.5), true, true);
        link.sample(1000, at(1, 0.0), true, true);
        assert_eq!((link.view.kbps, link.view.speaking), (0, false));
    }
}
