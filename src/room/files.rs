//! Files: what may arrive, and how a transfer stands. Each file goes to each peer over a data
//! channel of its own (ordered, reliable), opened by the sender on the existing connection. Its
//! label announces the file, `<size>:<sha-256 hex>:<name>`; then come the bytes, in pieces of
//! exactly [`CHUNK`] (the last one the rest); the receiver checks the hash, answers `ok` and
//! closes. Either side closing before that cancels. A peer's announcement and pieces are
//! untrusted: one that breaks a rule ends that transfer alone, with a [`Refusal`]. Pure: the edge
//! (`session/files.rs`) moves the bytes.

use super::{PeerKey, PeerState, Room};

/// Bytes per piece: what every browser sends and receives in one message.
pub const CHUNK: u64 = 16 * 1024;
/// The largest file, and the most bytes arriving at once, unless the operator says otherwise
/// (`maxFileMb` in `config.json`).
pub const DEFAULT_MAX_FILE_MB: u32 = 100;
/// Files one peer may be sending us at once.
pub const MAX_ARRIVING_PER_PEER: usize = 3;
/// A file that stops arriving for this long is given up.
pub const STALL_MS: u64 = 30_000;
/// File names are cut to this many characters.
pub const MAX_FILE_NAME_CHARS: usize = 120;
/// Transfers the list keeps; the oldest finished ones go first (their bytes with them).
pub const KEEP_FILES: usize = 20;
/// What the receiver answers once the bytes' hash matches.
pub const RECEIVED: &str = "ok";

/// What a sender announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    pub size: u64,
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    pub sha256: String,
    pub name: String,
}

impl Announce {
    pub fn label(&self) -> String {
        format!("{}:{}:{}", self.size, self.sha256, self.name)
    }

    /// The announcement in a channel's label; `None` for anything else. The name is cleaned as
    /// a peer's name is, and path separators become `_`.
    pub fn parse(label: &str) -> Option<Announce> {
        let (size, rest) = label.split_once(':')?;
        let (sha256, name) = rest.split_once(':')?;
        let size_ok = (1..=15).contains(&size.len()) && size.bytes().all(|b| b.is_ascii_digit());
        let hash_ok = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let name = clean_file_name(name);
        (size_ok && hash_ok && !name.is_empty()).then(|| Announce {
            size: size.parse().unwrap_or(0),
            sha256: sha256.to_owned(),
            name,
        })
    }
}

/// A file name as shown and saved: no control or invisible characters, no path separators,
/// at most [`MAX_FILE_NAME_CHARS`].
pub fn clean_file_name(name: &str) -> String {
    super::channel::clean_name(&name.replace(['/', '\\'], "_"), MAX_FILE_NAME_CHARS)
}

/// Why a transfer ended before its file was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The announcement could not be read (or the file is empty).
    Malformed,
    /// Over the cap (in MB), or with what is arriving already it would be.
    TooBig(u32),
    /// The peer is sending us [`MAX_ARRIVING_PER_PEER`] files already.
    Busy,
    /// More bytes than announced.
    Overflow,
    /// A piece of the wrong size or kind.
    BadPiece,
    /// The bytes do not match the announced SHA-256.
    Corrupt,
    /// Nothing came for [`STALL_MS`].
    Stalled,
}

impl Refusal {
    pub fn sentence(self) -> String {
        match self {
            Refusal::Malformed => "Refused: it did not say properly what the file is.".into(),
            Refusal::TooBig(mb) => format!("Refused: files can be at most {mb} MB."),
            Refusal::Busy => "Refused: too many files from them at once.".into(),
            Refusal::Overflow => "Stopped: more bytes came than announced.".into(),
            Refusal::BadPiece => "Stopped: a broken piece came.".into(),
            Refusal::Corrupt => "Not saved: the bytes that came are not the file sent.".into(),
            Refusal::Stalled => "Stopped: nothing came for 30 seconds.".into(),
        }
    }
}

/// Whether a file announced as `label` may start arriving from a peer that is sending us
/// `from_peer` files already while `arriving` bytes are announced by all: the cap bounds each
/// file and everything arriving together, so no more than `cap` bytes are ever held for
/// unfinished files.
pub fn admit(label: &str, cap: u64, from_peer: usize, arriving: u64) -> Result<Announce, Refusal> {
    let file = Announce::parse(label)
        .filter(|f| f.size > 0)
        .ok_or(Refusal::Malformed)?;
    if file.size.saturating_add(arriving) > cap {
        return Err(Refusal::TooBig(mb(cap)));
    }
    if from_peer >= MAX_ARRIVING_PER_PEER {
        return Err(Refusal::Busy);
    }
    Ok(file)
}

/// `cap` bytes in whole MB, for sentences.
pub fn mb(cap: u64) -> u32 {
    (cap >> 20) as u32
}

/// One file arriving: what came against what was announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arriving {
    size: u64,
    received: u64,
    last_at: u64,
}

impl Arriving {
    pub fn new(size: u64, now: u64) -> Arriving {
        Arriving {
            size,
            received: 0,
            last_at: now,
        }
    }

    /// A binary piece of `len` bytes came at `now` (`None`: a text message, which the sender
    /// never sends). `Ok(true)`: that was the last one.
    pub fn piece(&mut self, len: Option<u64>, now: u64) -> Result<bool, Refusal> {
        let left = self.size - self.received;
        let want = left.min(CHUNK);
        match len {
            Some(n) if n > left => Err(Refusal::Overflow),
            Some(n) if n == want => {
                self.received += n;
                self.last_at = now;
                Ok(self.received == self.size)
            }
            _ => Err(Refusal::BadPiece),
        }
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn stalled(&self, now: u64) -> bool {
        now.saturating_sub(self.last_at) >= STALL_MS
    }
}

/// How a file we send stands with one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// This many bytes handed to its channel.
    Sending(u64),
    /// It said the bytes arrived whole.
    Received,
    /// Closed before that: cancelled on either side, or the peer went.
    Stopped,
}

/// A file we send, over all its legs: how many bytes went (for the bar), and once no leg is
/// sending any more, how it ended.
pub fn sent(size: u64, legs: &[Leg]) -> (u64, FileState) {
    let mut done = 0;
    let mut sending = false;
    let mut received = 0;
    for leg in legs {
        done += match *leg {
            Leg::Sending(n) => {
                sending = true;
                n
            }
            Leg::Received => {
                received += 1;
                size
            }
            Leg::Stopped => size,
        };
    }
    let n = legs.len().max(1) as u64;
    let state = if sending {
        FileState::Sending
    } else if received > 0 {
        FileState::Sent(received)
    } else {
        FileState::Cancelled
    };
    (done / n, state)
}

/// Where one transfer in the list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Sending,
    Receiving,
    /// Received whole: the object URL that saves it.
    Ready(String),
    /// Sent; this many received it whole.
    Sent(u32),
    Cancelled,
    /// Ended with this sentence.
    Failed(String),
}

/// One transfer as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub id: u32,
    /// Who sends it: `None` for us.
    pub from: Option<String>,
    pub name: String,
    pub size: u64,
    /// Bytes so far (sending: the average over the peers).
    pub done: u64,
    pub state: FileState,
}

impl FileEntry {
    pub fn busy(&self) -> bool {
        matches!(self.state, FileState::Sending | FileState::Receiving)
    }
}

impl Room {
    /// The peers a file goes to: admitted, channel open.
    pub fn file_peers(&self) -> Vec<PeerKey> {
        self.peers
            .values()
            .filter(|p| p.channel_open && p.admission.admitted())
            .map(|p| p.key)
            .collect()
    }

    /// A peer opens a channel to send us a file: its name if it may (admitted, and within the
    /// budget of its data channel, which each file spends like a message), `None` if not.
    pub fn file_sender(&mut self, key: PeerKey, now: u64) -> Option<String> {
        self.peers
            .get_mut(&key)
            .filter(|p| p.state != PeerState::Failed && p.admission.admitted())
            .and_then(|p| {
                (p.budget.spend(now) == super::budget::Spend::Read).then(|| p.name.clone())
            })
    }
}
