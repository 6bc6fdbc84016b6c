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
    /// `media-source` audio: our own microphone as this connection sends it, its
    /// `totalAudioEnergy`, `totalSamplesDuration` (s) and `audioLevel` now.
    pub sent_energy: f64,
    pub sent_seconds: f64,
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
    pub(super) distrusted: bool,
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

    /// How loud our own microphone was as this connection sent it, from reading `s`: its RMS
    /// since this connection's reading before (the whole interval, so a word said between two
    /// readings counts, as the peers' audio is judged), else its level at the moment `s` was
    /// made. Each connection counts its own energy, and a connection at rest is read every few
    /// seconds, so only this connection's reading before gives the interval.
    pub fn sent_loudness(&self, s: &Sample) -> f64 {
        let Some((_, last)) = &self.last else {
            return s.sent_level;
        };
        rms(
            s.sent_energy - last.sent_energy,
            s.sent_seconds - last.sent_seconds,
        )
        .unwrap_or(s.sent_level)
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
            let rms = rms(s.energy - last.energy, s.seconds - last.seconds).unwrap_or(0.0);
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

/// The RMS level of audio whose `totalAudioEnergy` grew by `energy` over `seconds` of samples;
/// `None` for no time (a counter that went back is a new sender: nothing new yet).
fn rms(energy: f64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| (energy.max(0.0) / seconds).sqrt())
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
