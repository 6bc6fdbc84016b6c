//! The cryptography of a call, pure and synchronous so the room brain can use it and native tests
//! can check it: the room key from the invite link's fragment, the proof a peer gives that it knows
//! the key (bound to both DTLS fingerprints of its connection, so a signaling server that swapped
//! them fails it), the safety code people can compare by voice, and the HMAC that proves a rebind.
//! HMAC-SHA-256 from RustCrypto: WebCrypto is async only, and the brain must stay a plain
//! `step(event) -> commands`. Nothing here touches the browser; randomness comes from the edge.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Symbols of a room key: as the room names', without look-alikes (no l, 1, 0, o).
pub const KEY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Symbols in a key we make: 26 × 5 bits = 130 random bits.
pub const KEY_SYMBOLS: usize = 26;

/// The secret of a keyed room. It travels only in the URL fragment (`/r/<room>#<key>`), which
/// browsers never send to a server, and over data channels as HMACs, never in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomKey(String);

/// A fragment that cannot be a room key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the room key in this link is damaged")]
pub struct BadKey;

// Never print the key itself (logs, panics).
impl std::fmt::Debug for RoomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomKey(..)")
    }
}

impl RoomKey {
    /// Reads a key from a URL fragment (with or without its `#`); `None` for no key at all.
    /// Keys made elsewhere are accepted if they are long enough to be unguessable and use only
    /// URL-safe symbols, so no link is ever silently read as an open room.
    pub fn from_fragment(fragment: &str) -> Result<Option<RoomKey>, BadKey> {
        let key = fragment.strip_prefix('#').unwrap_or(fragment);
        if key.is_empty() {
            return Ok(None);
        }
        let safe = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if safe && (16..=128).contains(&key.len()) {
            Ok(Some(RoomKey(key.to_owned())))
        } else {
            Err(BadKey)
        }
    }

    /// A new key from `random` bytes (at least [`KEY_SYMBOLS`] of them, from the edge's
    /// `crypto.getRandomValues`).
    pub fn from_random(random: &[u8]) -> RoomKey {
        RoomKey(
            random
                .iter()
                .take(KEY_SYMBOLS)
                .map(|b| KEY_ALPHABET[usize::from(b & 31)] as char)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Names the key without giving it away, so a peer with a different key tells apart from a
    /// man in the middle: same id but a failing proof means the fingerprints differ.
    pub fn id(&self) -> String {
        hex(&mac(self.0.as_bytes(), &[b"meshcall key id v1"])[..8])
    }
}

/// The DTLS certificate fingerprints of one connection, as `getStats()` reports them
/// (`certificate` entries): ours and the peer's, each `"<algorithm> <hex:pairs>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    pub local: String,
    pub remote: String,
}

impl Fingerprints {
    /// Both sides must spell a fingerprint alike: lowercase algorithm, uppercase hex.
    pub fn new(local: (&str, &str), remote: (&str, &str)) -> Fingerprints {
        let spell = |(algorithm, hex): (&str, &str)| {
            format!(
                "{} {}",
                algorithm.trim().to_ascii_lowercase(),
                hex.trim().to_ascii_uppercase()
            )
        };
        Fingerprints {
            local: spell(local),
            remote: spell(remote),
        }
    }

    /// The two fingerprints in an order both sides agree on.
    fn sorted(&self) -> [&str; 2] {
        let mut pair = [self.local.as_str(), self.remote.as_str()];
        pair.sort_unstable();
        pair
    }
}

/// The proof one side sends: HMAC(key, both fingerprints sorted, then the sender's own). Naming
/// the sender keeps a peer without the key from passing by echoing back the proof it received.
fn proof(key: &RoomKey, fps: &Fingerprints, sender: &str) -> [u8; 32] {
    let [a, b] = fps.sorted();
    mac(
        key.0.as_bytes(),
        &[
            b"meshcall room proof v1",
            a.as_bytes(),
            b.as_bytes(),
            sender.as_bytes(),
        ],
    )
}

/// What we send the peer of this connection.
pub fn my_proof(key: &RoomKey, fps: &Fingerprints) -> String {
    hex(&proof(key, fps, &fps.local))
}

/// Whether `received` is the proof the peer of this connection must send: it knows the key and
/// sees the same two fingerprints we do. Compared in constant time.
pub fn proof_holds(key: &RoomKey, fps: &Fingerprints, received: &str) -> bool {
    let expected = proof(key, fps, &fps.remote);
    unhex(received).is_some_and(|r| constant_time_eq(&r, &expected))
}

/// A short code both ends of a connection show alike, from both fingerprints: if a server in the
/// middle swapped them, the two people read different digits. 8 digits, grouped for reading aloud.
pub fn safety_code(fps: &Fingerprints) -> String {
    let [a, b] = fps.sorted();
    let mut hash = Sha256::new();
    for part in [
        b"meshcall safety code v1".as_slice(),
        a.as_bytes(),
        b"|",
        b.as_bytes(),
    ] {
        hash.update(part);
    }
    let digest = hash.finalize();
    let n = u64::from_be_bytes([
        0, 0, 0, digest[0], digest[1], digest[2], digest[3], digest[4],
    ]) % 100_000_000;
    format!("{:04} {:04}", n / 10_000, n % 10_000)
}

/// The HMAC that proves a rebind: the pair `token` (exchanged over this connection's DTLS, so no
/// server and no other peer knows it) over the `signaling_id` the signal comes from.
pub fn rebind_mac(token: &str, signaling_id: &str) -> String {
    hex(&mac(
        token.as_bytes(),
        &[b"meshcall rebind v1", signaling_id.as_bytes()],
    ))
}

/// Whether `received` is [`rebind_mac`] of `token` over `signaling_id`, in constant time.
pub fn rebind_holds(token: &str, signaling_id: &str, received: &str) -> bool {
    let expected = mac(
        token.as_bytes(),
        &[b"meshcall rebind v1", signaling_id.as_bytes()],
    );
    unhex(received).is_some_and(|r| constant_time_eq(&r, &expected))
}

/// A pair token from `random` bytes (the edge's `crypto.getRandomValues`).
pub fn token_from(random: &[u8]) -> String {
    hex(random)
}

/// HMAC-SHA-256 over `parts`, each prefixed by its length so no two lists of parts collide.
fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let Ok(mut m) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    pairs
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: (&str, &str) = ("sha-256", "AA:01:02");
    const B: (&str, &str) = ("sha-256", "BB:03:04");
    const M: (&str, &str) = ("sha-256", "EE:66:66");

    fn key(text: &str) -> RoomKey {
        RoomKey::from_fragment(text).unwrap().unwrap()
    }

    #[test]
    fn fragments_are_keys_no_key_or_damaged() {
        assert_eq!(RoomKey::from_fragment(""), Ok(None));
        assert_eq!(RoomKey::from_fragment("#"), Ok(None));
        let k = RoomKey::from_fragment("#abcdefghijkmnpqrstuvwxyz2").unwrap();
        assert_eq!(
            k.map(|k| k.as_str().to_owned()).as_deref(),
            Some("abcdefghijkmnpqrstuvwxyz2")
        );
        for bad in [
            "#short",
            "#has space in it somewhere",
            "#ünïcödé-ünïcödé-ü",
            &format!("#{}", "x".repeat(129)),
        ] {
            assert_eq!(RoomKey::from_fragment(bad), Err(BadKey), "{bad}");
        }
        let made = RoomKey::from_random(&[7u8; 32]);
        assert_eq!(made.as_str().len(), KEY_SYMBOLS);
        assert_eq!(
            RoomKey::from_fragment(made.as_str()),
            Ok(Some(made.clone()))
        );
        assert_eq!(format!("{made:?}"), "RoomKey(..)");
    }

    #[test]
    fn both_sides_of_a_connection_accept_each_others_proof() {
        let k = key("the-room-key-0123456789");
        let ada = Fingerprints::new(A, B);
        let bob = Fingerprints::new(B, A);
        assert!(proof_holds(&k, &bob, &my_proof(&k, &ada)));
        assert!(proof_holds(&k, &ada, &my_proof(&k, &bob)));
        // Spelling differences (case, spaces) do not matter.
        let bob_lower = Fingerprints::new(("SHA-256 ", "bb:03:04"), ("sha-256", " aa:01:02"));
        assert!(proof_holds(&k, &bob_lower, &my_proof(&k, &ada)));
    }

    #[test]
    fn a_proof_echoed_back_does_not_pass() {
        let k = key("the-room-key-0123456789");
        let ada = Fingerprints::new(A, B);
        // Bob without the key sends Ada her own proof back.
        assert!(!proof_holds(&k, &ada, &my_proof(&k, &ada)));
    }

    #[test]
    fn a_fingerprint_mismatch_fails_the_proof() {
        // A signaling server in the middle gave each side its own certificate: Ada's connection
        // ends at the server (A–M), Bob's too (M–B). Both know the key, yet neither proof holds.
        let k = key("the-room-key-0123456789");
        let ada_sees = Fingerprints::new(A, M);
        let bob_sees = Fingerprints::new(B, M);
        assert!(!proof_holds(&k, &bob_sees, &my_proof(&k, &ada_sees)));
        assert!(!proof_holds(&k, &ada_sees, &my_proof(&k, &bob_sees)));
        // ... while the key id matches: the UI can say "man in the middle", not "wrong key".
        assert_eq!(k.id(), key("the-room-key-0123456789").id());
        // And the safety codes differ.
        assert_ne!(safety_code(&ada_sees), safety_code(&bob_sees));
    }

    #[test]
    fn a_wrong_key_fails_the_proof_and_has_another_id() {
        let right = key("the-room-key-0123456789");
        let wrong = key("not-the-room-key-98765");
        let ada = Fingerprints::new(A, B);
        let bob = Fingerprints::new(B, A);
        assert!(!proof_holds(&right, &ada, &my_proof(&wrong, &bob)));
        assert_ne!(right.id(), wrong.id());
        for garbage in ["", "zz", "abc", &"0".repeat(64)] {
            assert!(!proof_holds(&right, &ada, garbage), "{garbage}");
        }
    }

    #[test]
    fn the_safety_code_is_the_same_on_both_sides() {
        let ada = Fingerprints::new(A, B);
        let bob = Fingerprints::new(B, A);
        let code = safety_code(&ada);
        assert_eq!(code, safety_code(&bob));
        assert_eq!(code.len(), 9);
        assert!(code.chars().all(|c| c.is_ascii_digit() || c == ' '));
        assert_ne!(code, safety_code(&Fingerprints::new(A, M)));
    }

    #[test]
    fn a_rebind_mac_holds_only_for_its_token_and_id() {
        let mac = rebind_mac("pair-token", "new-id");
        assert!(rebind_holds("pair-token", "new-id", &mac));
        assert!(!rebind_holds("pair-token", "other-id", &mac));
        assert!(!rebind_holds("other-token", "new-id", &mac));
        assert!(!rebind_holds("pair-token", "new-id", "not hex"));
    }
}
