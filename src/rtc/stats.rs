//! `getStats()` read into Rust values with serde-wasm-bindgen: the DTLS certificate fingerprints
//! a connection actually uses (not what signaling claimed), for the room key's proof and the
//! safety code; and each second the counters that say who speaks and how good the connection
//! is (`room::link` judges them). It reports what the browser says and decides nothing.

use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcPeerConnection, RtcStatsReport};

use super::JsError;
use crate::room::Sample;
use crate::trust::Fingerprints;

/// Why a connection's fingerprints could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error("getStats failed: {0}")]
    Browser(#[from] JsError),
    /// No transport with both certificates yet (DTLS not done) or a report we cannot read.
    #[error("the connection reports no DTLS certificates")]
    NoCertificates,
}

/// The fields of an `RTCStats` entry we need; every report type shares `type` and `id`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Stat {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    /// `certificate` entries.
    fingerprint: Option<String>,
    fingerprint_algorithm: Option<String>,
    /// `transport` entries.
    local_certificate_id: Option<String>,
    remote_certificate_id: Option<String>,
    selected_candidate_pair_id: Option<String>,
    /// `inbound-rtp` and `media-source` entries (`kind`: audio or video).
    #[serde(rename = "kind")]
    media: String,
    bytes_received: f64,
    packets_received: f64,
    packets_lost: f64,
    total_audio_energy: f64,
    total_samples_duration: f64,
    audio_level: f64,
    frame_width: u32,
    frame_height: u32,
    codec_id: Option<String>,
    /// `codec` entries: `video/VP8`.
    mime_type: Option<String>,
    /// `remote-inbound-rtp` entries (from RTCP, to the microsecond).
    round_trip_time: Option<f64>,
    /// `candidate-pair` entries (from STUN, whole milliseconds).
    current_round_trip_time: Option<f64>,
    local_candidate_id: Option<String>,
    remote_candidate_id: Option<String>,
    /// `local-candidate` and `remote-candidate` entries.
    candidate_type: Option<String>,
}

/// Reads of a report that lacks the certificates yet, before giving up (2 s in all). Read again
/// soon: in a keyed room no media flows until the proof built from them has crossed, so each
/// millisecond waited here is one more before the first face (a read takes a few).
const ATTEMPTS: u32 = 200;
const RETRY_MS: u32 = 10;

/// [`fingerprints`], read again for a while if the report lags behind the handshake (the data
/// channel can open a moment before `getStats()` lists the certificates).
pub async fn read_fingerprints(pc: &RtcPeerConnection) -> Result<Fingerprints, StatsError> {
    let mut attempt = 1;
    loop {
        match fingerprints(pc).await {
            Err(StatsError::NoCertificates) if attempt < ATTEMPTS => {
                gloo_timers::future::TimeoutFuture::new(RETRY_MS).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Our and the peer's certificate fingerprints on `pc`'s (bundled) DTLS transport.
pub async fn fingerprints(pc: &RtcPeerConnection) -> Result<Fingerprints, StatsError> {
    pick(&read(pc).await?).ok_or(StatsError::NoCertificates)
}

/// The entries of `pc`'s report this module reads (not the outbound ones, which say nothing
/// here).
async fn read(pc: &RtcPeerConnection) -> Result<Vec<Stat>, JsError> {
    let report: RtcStatsReport = JsFuture::from(pc.get_stats()).await?.unchecked_into();
    let mut stats = Vec::new();
    for value in report.values().into_iter() {
        // An entry of another shape is not ours to judge; skip it.
        if let Ok(stat) = serde_wasm_bindgen::from_value::<Stat>(value?) {
            if !stat.kind.starts_with("outbound") {
                stats.push(stat);
            }
        }
    }
    Ok(stats)
}

/// What the peer on `pc` sends us and how the connection carries it, now.
pub async fn sample(pc: &RtcPeerConnection) -> Result<Sample, JsError> {
    let stats = read(pc).await?;
    let by_id = |id: Option<&String>| stats.iter().find(|s| Some(&s.id) == id);
    let mut out = Sample::default();
    let mut codec = None;
    // The media's own round trip, finer than the candidate pair's whole milliseconds.
    for r in stats.iter().filter_map(|s| s.round_trip_time) {
        out.rtt = Some(out.rtt.unwrap_or(0.0).max(r));
    }
    for s in stats.iter().filter(|s| s.kind == "media-source") {
        out.sent_level = out.sent_level.max(s.audio_level);
    }
    for s in stats.iter().filter(|s| s.kind == "inbound-rtp") {
        out.bytes += s.bytes_received;
        out.packets += s.packets_received;
        out.lost += s.packets_lost;
        if s.media == "audio" {
            out.energy += s.total_audio_energy;
            out.seconds += s.total_samples_duration;
            out.level = out.level.max(s.audio_level);
            codec = codec.or(s.codec_id.as_ref());
        } else if out.width == 0 && s.frame_width > 0 {
            // The first picture (the camera's comes before a screen's).
            (out.width, out.height) = (s.frame_width, s.frame_height);
            codec = s.codec_id.as_ref();
        }
    }
    if let Some(mime) = by_id(codec).and_then(|c| c.mime_type.as_ref()) {
        out.codec = mime.rsplit('/').next().unwrap_or_default().to_owned();
    }
    let pair = stats
        .iter()
        .find(|s| s.kind == "transport")
        .and_then(|t| by_id(t.selected_candidate_pair_id.as_ref()));
    if let Some(pair) = pair {
        out.rtt = out.rtt.or(pair.current_round_trip_time);
        out.relayed = [&pair.local_candidate_id, &pair.remote_candidate_id]
            .into_iter()
            .any(|c| by_id(c.as_ref()).and_then(|c| c.candidate_type.as_deref()) == Some("relay"));
    }
    Ok(out)
}

fn pick(stats: &[Stat]) -> Option<Fingerprints> {
    let certificate = |id: &Option<String>| {
        let id = id.as_deref()?;
        let c = stats
            .iter()
            .find(|s| s.kind == "certificate" && s.id == id)?;
        Some((
            c.fingerprint_algorithm.as_deref()?,
            c.fingerprint.as_deref()?,
        ))
    };
    stats
        .iter()
        .filter(|s| s.kind == "transport")
        .find_map(|t| {
            Some(Fingerprints::new(
                certificate(&t.local_certificate_id)?,
                certificate(&t.remote_certificate_id)?,
            ))
        })
}
