//! `getStats()` read into Rust values with serde-wasm-bindgen: the DTLS certificate fingerprints
//! a connection actually uses (not what signaling claimed), for the room key's proof and the
//! safety code; and each second the counters that say who speaks and how good the connection
//! is (`room::link` judges them), and what our camera's encoder may send on it (`room::uplink`).
//! It reports what the browser says and decides nothing.

use serde::{de::DeserializeOwned, Deserialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcPeerConnection, RtcStatsReport};

use super::JsError;
use crate::room::{Encoder, Sample};
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

/// An entry's type, read before anything else: serde-wasm-bindgen reads a struct field by field
/// (a lookup, and for an absent one an `in` check, each a call out of the wasm), so an entry of a
/// type we do not use costs one lookup instead of one per field of ours. A connection's report
/// holds 28 entries in a call of two and more with every candidate (docs/join-timeline.md).
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
}

/// `inbound-rtp`: what the peer sends us, one entry per track.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Inbound {
    kind: String,
    bytes_received: f64,
    packets_received: f64,
    packets_lost: f64,
    total_audio_energy: f64,
    total_samples_duration: f64,
    audio_level: f64,
    frame_width: u32,
    frame_height: u32,
    codec_id: Option<String>,
    /// When the report was made and when the last packet came, both ms on the same clock.
    timestamp: f64,
    last_packet_received_timestamp: Option<f64>,
}

/// `remote-inbound-rtp` and `remote-outbound-rtp`: the round trip RTCP measured (to the
/// microsecond), of what we send and of what the peer sends.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RoundTrip {
    round_trip_time: Option<f64>,
}

/// `outbound-rtp`: what one of our encoders may send now and has sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Outbound {
    kind: String,
    target_bitrate: Option<f64>,
    bytes_sent: f64,
}

/// `media-source`: our own microphone as we send it, its energy so far and its level now (none
/// for the camera).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Source {
    kind: String,
    total_audio_energy: f64,
    total_samples_duration: f64,
    audio_level: f64,
}

/// `transport`: its selected candidate pair and the DTLS certificates on it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Transport {
    selected_candidate_pair_id: Option<String>,
    local_certificate_id: Option<String>,
    remote_certificate_id: Option<String>,
}

/// `candidate-pair` (STUN's round trip, whole milliseconds) and its two ends.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Pair {
    current_round_trip_time: Option<f64>,
    local_candidate_id: Option<String>,
    remote_candidate_id: Option<String>,
}

/// `local-candidate` and `remote-candidate`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Candidate {
    candidate_type: Option<String>,
}

/// `codec`: `video/VP8`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Codec {
    mime_type: Option<String>,
}

/// `certificate`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Certificate {
    fingerprint: Option<String>,
    fingerprint_algorithm: Option<String>,
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
    let report = report(pc).await?;
    let certificate = |id: Option<&String>| {
        let c: Certificate = by_id(&report, id)?;
        Some((c.fingerprint_algorithm?, c.fingerprint?))
    };
    entries(&report)
        .filter(|(kind, _)| kind == "transport")
        .filter_map(|(_, value)| entry::<Transport>(value))
        .find_map(|t| {
            let (local, remote) = (
                certificate(t.local_certificate_id.as_ref())?,
                certificate(t.remote_certificate_id.as_ref())?,
            );
            Some(Fingerprints::new(
                (&local.0, &local.1),
                (&remote.0, &remote.1),
            ))
        })
        .ok_or(StatsError::NoCertificates)
}

async fn report(pc: &RtcPeerConnection) -> Result<RtcStatsReport, JsError> {
    Ok(JsFuture::from(pc.get_stats()).await?.unchecked_into())
}

/// Every entry of `report` with its type. An entry of another shape is not ours to judge: it is
/// skipped.
fn entries(report: &RtcStatsReport) -> impl Iterator<Item = (String, JsValue)> {
    report.values().into_iter().filter_map(|value| {
        let value = value.ok()?;
        let head: Head = serde_wasm_bindgen::from_value(value.clone()).ok()?;
        Some((head.kind, value))
    })
}

fn entry<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// The entry that another one names (`codecId`, `selectedCandidatePairId`, ...).
fn by_id<T: DeserializeOwned>(report: &RtcStatsReport, id: Option<&String>) -> Option<T> {
    entry(report.get(id?)?.into())
}

/// What the peer on `pc` sends us and how the connection carries it, now. Only the entries this
/// reads are made Rust values; those that others name (the codec, the selected pair and its
/// candidates) are looked up by id.
pub async fn sample(pc: &RtcPeerConnection) -> Result<Sample, JsError> {
    let report = report(pc).await?;
    let mut out = Sample::default();
    let mut codec = None;
    let mut pair_id = None;
    // Our video encoders on this connection: the camera's, unless a screen's is there too.
    let mut encoders = Vec::new();
    for (kind, value) in entries(&report) {
        match kind.as_str() {
            // The media's own round trip, finer than the candidate pair's whole milliseconds.
            "remote-inbound-rtp" | "remote-outbound-rtp" => {
                if let Some(r) = entry::<RoundTrip>(value).and_then(|r| r.round_trip_time) {
                    out.rtt = Some(out.rtt.unwrap_or(0.0).max(r));
                }
            }
            "media-source" => {
                if let Some(s) = entry::<Source>(value).filter(|s| s.kind == "audio") {
                    out.sent_energy += s.total_audio_energy;
                    out.sent_seconds += s.total_samples_duration;
                    out.sent_level = out.sent_level.max(s.audio_level);
                }
            }
            "inbound-rtp" => {
                let Some(s) = entry::<Inbound>(value) else {
                    continue;
                };
                out.bytes += s.bytes_received;
                out.packets += s.packets_received;
                out.lost += s.packets_lost;
                // Both on the report's clock; a last packet after the report's time is a clock
                // we cannot read (liveness then goes by the bytes' growth).
                if let Some(last) = s
                    .last_packet_received_timestamp
                    .filter(|&last| last <= s.timestamp + 1.0)
                {
                    let age = (s.timestamp - last).max(0.0) as u64;
                    out.media_age = Some(out.media_age.map_or(age, |a| a.min(age)));
                }
                if s.kind == "audio" {
                    out.energy += s.total_audio_energy;
                    out.seconds += s.total_samples_duration;
                    out.level = out.level.max(s.audio_level);
                    codec = codec.or(s.codec_id);
                } else if out.width == 0 && s.frame_width > 0 {
                    // The first picture (the camera's comes before a screen's).
                    (out.width, out.height) = (s.frame_width, s.frame_height);
                    codec = s.codec_id;
                }
            }
            "outbound-rtp" => {
                if let Some(o) = entry::<Outbound>(value).filter(|o| o.kind == "video") {
                    encoders.push(o);
                }
            }
            "transport" if pair_id.is_none() => {
                pair_id = entry::<Transport>(value).and_then(|t| t.selected_candidate_pair_id);
            }
            _ => {}
        }
    }
    if let [camera] = encoders.as_slice() {
        out.encoder = camera.target_bitrate.map(|bps| Encoder {
            target_kbps: (bps / 1_000.0) as u32,
            bytes_sent: camera.bytes_sent as u64,
        });
    }
    if let Some(mime) = by_id::<Codec>(&report, codec.as_ref()).and_then(|c| c.mime_type) {
        out.codec = mime.rsplit('/').next().unwrap_or_default().to_owned();
    }
    if let Some(pair) = by_id::<Pair>(&report, pair_id.as_ref()) {
        out.rtt = out.rtt.or(pair.current_round_trip_time);
        out.relayed = [&pair.local_candidate_id, &pair.remote_candidate_id]
            .into_iter()
            .any(|c| {
                by_id::<Candidate>(&report, c.as_ref())
                    .and_then(|c| c.candidate_type)
                    .as_deref()
                    == Some("relay")
            });
    }
    Ok(out)
}
