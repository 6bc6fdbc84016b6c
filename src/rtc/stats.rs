//! `getStats()` read into Rust values with serde-wasm-bindgen: the DTLS certificate fingerprints
//! a connection actually uses (not what signaling claimed), for the room key's proof and the
//! safety code; and each second the counters that say who speaks and how good the connection
//! is (`room::link` judges them). It reports what the browser says and decides nothing.

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
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
}

/// Reads of a report that lacks the certificates yet, before giving up.
const ATTEMPTS: u32 = 10;
const RETRY_MS: u32 = 200;

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

/// The transports and certificates of `pc`'s report.
async fn read(pc: &RtcPeerConnection) -> Result<Vec<Stat>, JsError> {
    let report: RtcStatsReport = JsFuture::from(pc.get_stats()).await?.unchecked_into();
    let mut stats = Vec::new();
    for value in report.values().into_iter() {
        // An entry of another shape is not ours to judge; skip it.
        if let Ok(stat) = serde_wasm_bindgen::from_value::<Stat>(value?) {
            if matches!(stat.kind.as_str(), "transport" | "certificate") {
                stats.push(stat);
            }
        }
    }
    Ok(stats)
}

/// A field of a stats entry (read one by one: a serde struct of these fields costs the wasm
/// kilobytes more).
fn get(stat: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(stat, &JsValue::from_str(name)).unwrap_or_default()
}

fn num(stat: &JsValue, name: &str) -> f64 {
    get(stat, name).as_f64().unwrap_or(0.0)
}

fn text(stat: &JsValue, name: &str) -> Option<String> {
    get(stat, name).as_string()
}

/// What the peer on `pc` sends us and how the connection carries it, now.
pub async fn sample(pc: &RtcPeerConnection) -> Result<Sample, JsError> {
    let report: RtcStatsReport = JsFuture::from(pc.get_stats()).await?.unchecked_into();
    let stats = report
        .values()
        .into_iter()
        .collect::<Result<Vec<JsValue>, JsValue>>()?;
    let of_type = |t: &'static str| {
        stats
            .iter()
            .filter(move |s| text(s, "type").as_deref() == Some(t))
    };
    let by_id = |id: Option<String>| {
        let id = id?;
        stats.iter().find(|s| text(s, "id").as_ref() == Some(&id))
    };
    let mut out = Sample::default();
    let mut codec = None;
    // The media's own round trip (RTCP), finer than the candidate pair's whole milliseconds.
    for r in of_type("remote-inbound-rtp").filter_map(|s| get(s, "roundTripTime").as_f64()) {
        out.rtt = Some(out.rtt.unwrap_or(0.0).max(r));
    }
    for s in of_type("inbound-rtp") {
        out.bytes += num(s, "bytesReceived");
        out.packets += num(s, "packetsReceived");
        out.lost += num(s, "packetsLost");
        if text(s, "kind").as_deref() == Some("audio") {
            out.energy += num(s, "totalAudioEnergy");
            out.seconds += num(s, "totalSamplesDuration");
            out.level = out.level.max(num(s, "audioLevel"));
            codec = codec.or(text(s, "codecId"));
        } else if out.width == 0 && num(s, "frameWidth") > 0.0 {
            // The first picture (the camera's comes before a screen's).
            out.width = num(s, "frameWidth") as u32;
            out.height = num(s, "frameHeight") as u32;
            codec = text(s, "codecId");
        }
    }
    if let Some(mime) = by_id(codec).and_then(|c| text(c, "mimeType")) {
        out.codec = mime.rsplit('/').next().unwrap_or_default().to_owned();
    }
    let pair = of_type("transport")
        .next()
        .and_then(|t| by_id(text(t, "selectedCandidatePairId")));
    if let Some(pair) = pair {
        out.rtt = out.rtt.or(get(pair, "currentRoundTripTime").as_f64());
        out.relayed = ["localCandidateId", "remoteCandidateId"]
            .into_iter()
            .any(|end| {
                by_id(text(pair, end))
                    .and_then(|c| text(c, "candidateType"))
                    .as_deref()
                    == Some("relay")
            });
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
