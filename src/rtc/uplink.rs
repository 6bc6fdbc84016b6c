//! Puts the room's upload limits on a connection's video senders with `setParameters`: no
//! renegotiation, no new track. The arithmetic is the brain's (`room/uplink.rs`).

use std::future::Future;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcPeerConnection, RtcRtpEncodingParameters, RtcRtpSender, RtcRtpTransceiver};

use super::media::MediaKind;
use super::JsError;
use crate::room::SendLimit;

/// Sets `maxBitrate` and `scaleResolutionDownBy` on every encoding of each video sender of `pc`:
/// the camera's limit, or for the senders in `shares` (our screen) the screen's, at full size.
/// A sender without encodings yet (not negotiated, or receive-only) is left alone.
pub fn limit_video(
    pc: &RtcPeerConnection,
    shares: &[RtcRtpSender],
    limit: SendLimit,
) -> impl Future<Output = Result<(), JsError>> + 'static {
    let pending: Vec<_> = pc
        .get_transceivers()
        .iter()
        .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
        .filter(|t| t.receiver().track().kind() == MediaKind::Video.as_str())
        .filter_map(|t| {
            let sender = t.sender();
            let (bps, scale) = if shares.contains(&sender) {
                (limit.screen_bps?, 1.0)
            } else {
                (limit.video_bps, limit.scale_down)
            };
            let params = sender.get_parameters();
            let encodings = params.get_encodings().filter(|e| e.length() > 0)?;
            for encoding in encodings.iter() {
                let encoding: RtcRtpEncodingParameters = encoding.unchecked_into();
                encoding.set_max_bitrate(bps);
                encoding.set_scale_resolution_down_by(scale);
            }
            params.set_encodings(&encodings);
            Some(sender.set_parameters_with_parameters(&params))
        })
        .collect();
    // All were started above; waiting for them in turn costs less code than joining them.
    async move {
        for promise in pending {
            JsFuture::from(promise).await?;
        }
        Ok(())
    }
}
