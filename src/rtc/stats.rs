//! `getStats()` read into Rust values with serde-wasm-bindgen: the DTLS certificate fingerprints
//! a connection actually uses (not what signaling claimed), for the room key's proof and the
//! safety code. It reports what the browser says and decides nothing.

use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcPeerConnection, RtcStatsReport};

use super::JsError;
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
    let report: RtcStatsReport = JsFuture::from(pc.get_stats())
        .await
        .map_err(JsError::from)?
        .unchecked_into();
    let mut stats = Vec::new();
    for value in report.values().into_iter() {
        let value = value.map_err(JsError::from)?;
        // An entry of another shape is not ours to judge; skip it.
        if let Ok(stat) = serde_wasm_bindgen::from_value::<Stat>(value) {
            if matches!(stat.kind.as_str(), "transport" | "certificate") {
                stats.push(stat);
            }
        }
    }
    pick(&stats).ok_or(StatsError::NoCertificates)
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
