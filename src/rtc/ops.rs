//! The async browser steps of negotiation for one connection, run strictly in order on one task:
//! an answer can never overtake the offer it answers, and candidates are only added after the
//! description before them. Errors go back to the room as events; nothing is decided here.

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcIceCandidateInit, RtcOfferOptions, RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit,
};

use super::peer::{log, EventSink};
use super::JsError;
use crate::room::{Event, PeerKey, SdpKind};

/// The async browser steps of negotiation, in the order the room issued them.
#[derive(Debug)]
pub enum Op {
    MakeOffer { ice_restart: bool },
    AcceptOffer(String),
    AcceptAnswer(String),
    AddCandidate(String),
}

/// Runs the peer's operations one after the other until the edge is dropped.
pub(super) async fn run_ops(
    key: PeerKey,
    pc: RtcPeerConnection,
    mut queue: mpsc::UnboundedReceiver<Op>,
    events: EventSink,
) {
    while let Some(op) = queue.next().await {
        // A closed connection rejects everything; the room already knows it is gone.
        if pc.signaling_state() == web_sys::RtcSignalingState::Closed {
            continue;
        }
        let candidate_op = matches!(op, Op::AddCandidate(_));
        match run_op(&pc, op).await {
            Ok(Some((kind, sdp))) => {
                let _ = events.unbounded_send(Event::LocalDescription { key, kind, sdp });
            }
            Ok(None) => {}
            // A candidate the browser rejects (e.g. one of a rolled-back offer) is not fatal;
            // the connection either works with the others or fails on its own.
            Err(err) if candidate_op => log(&format!("peer {key}: candidate rejected: {err}")),
            Err(err) => {
                if pc.signaling_state() == web_sys::RtcSignalingState::Closed {
                    continue;
                }
                log(&format!("peer {key}: negotiation failed: {err}"));
                let _ = events.unbounded_send(Event::NegotiationFailed {
                    key,
                    error: err.to_string(),
                });
            }
        }
    }
}

async fn run_op(pc: &RtcPeerConnection, op: Op) -> Result<Option<(SdpKind, String)>, JsError> {
    match op {
        Op::MakeOffer { ice_restart } => {
            let options = RtcOfferOptions::new();
            if ice_restart {
                options.set_ice_restart(true);
            }
            let offer = JsFuture::from(pc.create_offer_with_rtc_offer_options(&options)).await?;
            let sdp = sdp_of(&offer)?;
            let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
            desc.set_sdp(&sdp);
            JsFuture::from(pc.set_local_description(&desc)).await?;
            Ok(Some((SdpKind::Offer, sdp)))
        }
        Op::AcceptOffer(sdp) => {
            let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
            desc.set_sdp(&sdp);
            if pc.signaling_state() == web_sys::RtcSignalingState::HaveLocalOffer {
                // We are polite and lost the glare: roll our offer back first.
                let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
                JsFuture::from(pc.set_local_description(&rollback)).await?;
            }
            JsFuture::from(pc.set_remote_description(&desc)).await?;
            let answer = JsFuture::from(pc.create_answer()).await?;
            let sdp = sdp_of(&answer)?;
            let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            desc.set_sdp(&sdp);
            JsFuture::from(pc.set_local_description(&desc)).await?;
            Ok(Some((SdpKind::Answer, sdp)))
        }
        Op::AcceptAnswer(sdp) => {
            let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            desc.set_sdp(&sdp);
            JsFuture::from(pc.set_remote_description(&desc)).await?;
            Ok(None)
        }
        Op::AddCandidate(json) => {
            let init: RtcIceCandidateInit = js_sys::JSON::parse(&json)?.unchecked_into();
            if !init.is_object() {
                return Err(JsError {
                    name: "TypeError".into(),
                    message: "candidate is not an object".into(),
                });
            }
            JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)))
                .await?;
            Ok(None)
        }
    }
}

fn sdp_of(description: &JsValue) -> Result<String, JsError> {
    Reflect::get(description, &JsValue::from_str("sdp"))?
        .as_string()
        .ok_or_else(|| JsError {
            name: "TypeError".into(),
            message: "description without sdp".into(),
        })
}
