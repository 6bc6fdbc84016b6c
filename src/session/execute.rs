//! The command interpreter: runs each of the room brain's commands on the edges (peer
//! connections, the signaling socket, the tiles). It decides nothing; the brain did.

use leptos::prelude::*;
use meshcall_protocol::ClientMessage;

use super::{Inner, Tile};
use crate::hooks::random_bytes;
use crate::room::{ChatLine, Command, Event, Link, PeerKey, Why};
use crate::rtc::media::LocalMedia;
use crate::rtc::peer::{log, Op, PeerEdge};
use crate::rtc::screen::Screen;
use crate::rtc::stats::read_fingerprints;
use crate::rtc::{now_ms, time_of_day};
use crate::trust::token_from;

impl Inner {
    pub(super) fn handle(&self, event: Event) {
        let tick = matches!(event, Event::Tick);
        if tick {
            // How large each tile shows its peer, for the peer's uplink (the room sends it only
            // when it changed).
            for (&key, edge) in self.edges.borrow().iter() {
                if let Some((width, height)) = edge.shown() {
                    let _ = self
                        .events
                        .unbounded_send(Event::Shown { key, width, height });
                }
            }
        }
        let commands = self.room.borrow_mut().step(now_ms(), event);
        for c in commands {
            self.execute(c);
        }
        // The upload limits once a second, not after every event: each `setParameters` needs a
        // `getParameters` first, a call that blocks the page until WebRTC's worker thread answers
        // (17 ms each on average while four pages assemble a mesh on two cores), and while a mesh
        // assembles every new peer, tile size and connection changes the plan. A connection runs
        // at most a second on the browser's own limits, which a new one's bandwidth estimate
        // takes longer than that to reach.
        if tick {
            let limits = self.room.borrow_mut().fit_uplink();
            for c in limits {
                self.execute(c);
            }
        }
    }

    pub(super) fn chat_line(&self, from: Option<PeerKey>, name: String, text: String) {
        self.view.chat.update(|log| {
            log.push(ChatLine {
                from,
                name,
                time: time_of_day(),
                text,
            })
        });
    }

    fn edge_op(&self, key: PeerKey, op: Op) {
        if let Some(edge) = self.edges.borrow().get(&key) {
            edge.run(op);
        }
    }

    pub(super) fn execute(&self, command: Command) {
        match command {
            Command::CreatePeer { key, offerer } => {
                let media = self.media.borrow();
                let local = media.as_ref().map(LocalMedia::stream);
                let screen = self.screen.borrow();
                let screen = screen.as_ref().map(Screen::stream);
                // In a room with a key, nothing goes out before the peer's proof checks.
                let hold = self.room.borrow().has_key();
                let events = self.events.clone();
                match PeerEdge::new(key, &self.config, local, screen, offerer, hold, events) {
                    Ok(edge) => {
                        self.take_offers(key, &edge);
                        self.edges.borrow_mut().insert(key, edge);
                    }
                    Err(err) => {
                        let _ = self.events.unbounded_send(Event::NegotiationFailed {
                            key,
                            error: err.to_string(),
                        });
                    }
                }
            }
            Command::MakeOffer { key, ice_restart } => {
                self.edge_op(key, Op::MakeOffer { ice_restart })
            }
            Command::AcceptOffer { key, sdp } => self.edge_op(key, Op::AcceptOffer(sdp)),
            Command::AcceptAnswer { key, sdp } => self.edge_op(key, Op::AcceptAnswer(sdp)),
            Command::AddCandidate { key, candidate } => {
                self.edge_op(key, Op::AddCandidate(candidate))
            }
            Command::SendSignal { to, signal } => {
                let send = self.outbound.borrow().clone();
                if let Some(send) = send {
                    send(ClientMessage::Signal {
                        receiver: to,
                        data: signal.to_value(),
                    });
                }
            }
            Command::SendToPeer { key, message } => {
                if let (Some(edge), Ok(text)) = (
                    self.edges.borrow().get(&key),
                    crate::json::to_string(&message),
                ) {
                    edge.send(&text);
                }
            }
            Command::Secure { key } => {
                let Some(pc) = self
                    .edges
                    .borrow()
                    .get(&key)
                    .map(|e| e.connection().clone())
                else {
                    return;
                };
                let events = self.events.clone();
                // Holds the connection at most for the few reads it takes; a closed one fails.
                wasm_bindgen_futures::spawn_local(async move {
                    match read_fingerprints(&pc).await {
                        Ok(fingerprints) => {
                            let token = token_from(&random_bytes::<16>());
                            let _ = events.unbounded_send(Event::Secured {
                                key,
                                fingerprints,
                                token,
                            });
                        }
                        Err(e) => log(&format!("peer {key}: {e}")),
                    }
                });
            }
            Command::AllowMedia { key } => {
                let media = self.media.borrow();
                let local = media.as_ref().map(LocalMedia::stream);
                let screen = self.screen.borrow();
                let screen = screen.as_ref().map(Screen::stream);
                if let Some(edge) = self.edges.borrow().get(&key) {
                    let release = edge.release(local, screen);
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(e) = release.await {
                            log(&format!("peer {key}: could not send our media: {e}"));
                        }
                    });
                }
            }
            Command::Chat { from, name, text } => self.chat_line(from, name, text),
            Command::RemoteShare { key, stream } => {
                if let Some(edge) = self.edges.borrow().get(&key) {
                    edge.set_remote_share(stream);
                }
            }
            Command::LimitSend { key, limit } => {
                let Some(limited) = self.edges.borrow().get(&key).map(|e| e.limit(limit)) else {
                    return;
                };
                let events = self.events.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = limited.await {
                        log(&format!("peer {key}: could not limit the video: {e}"));
                        // Tried again at the next step.
                        let _ = events.unbounded_send(Event::LimitFailed(key));
                    }
                });
            }
            Command::Notice(notice) => self.view.notices.update(|n| n.count(notice)),
            Command::ClosePeer { key, why } => {
                if why != Why::Leaving {
                    log(&format!("peer {key}: closed: {why}"));
                }
                self.files_peer_gone(key);
                let edge = self.edges.borrow_mut().remove(&key);
                drop(edge);
            }
            Command::PeerUpdated { key } => {
                let Some(view) = self.room.borrow().peer(key).map(|p| p.view()) else {
                    return;
                };
                let existing = self.view.tiles.with_untracked(|t| {
                    t.iter()
                        .find(|t| t.key == key)
                        .map(|t| (t.view.clone(), t.link.clone()))
                });
                match existing {
                    Some((signal, link)) => {
                        // What the peer says of its speaking goes to its link, which marks it.
                        if link.with_untracked(|l| l.claimed() != view.speaking) {
                            link.update(|l| l.claim(now_ms(), view.speaking, view.mic));
                        }
                        if signal.with_untracked(|v| *v != view) {
                            signal.set(view);
                        }
                    }
                    None => self.view.tiles.update(|t| {
                        let mut link = Link::default();
                        link.claim(now_ms(), view.speaking, view.mic);
                        t.push(Tile {
                            key,
                            view: ArcRwSignal::new(view),
                            link: ArcRwSignal::new(link),
                        })
                    }),
                }
            }
            Command::PeerRemoved { key } => self.view.tiles.update(|t| t.retain(|t| t.key != key)),
        }
    }
}
