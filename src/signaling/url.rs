//! Where the socket goes: the configured base (absolute, or a path on this origin) plus the room
//! as the last path segment, as matchbox servers expect.

/// The default base when neither `?signaling=` nor `config.json` names one.
pub const DEFAULT_BASE: &str = "/ws/";

/// Resolve a configured base against the page (`page_protocol` is `location.protocol`,
/// e.g. `https:`; `host` is `location.host`). Returns a `ws:`/`wss:` URL ending in `/`.
pub fn signaling_base(configured: Option<&str>, page_protocol: &str, host: &str) -> String {
    let configured = configured
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_BASE);
    let secure = page_protocol == "https:";
    let mut url = if let Some(rest) = configured.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = configured.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if configured.starts_with("ws://") || configured.starts_with("wss://") {
        configured.to_owned()
    } else {
        let path = configured.trim_start_matches('/');
        format!("{}://{host}/{path}", if secure { "wss" } else { "ws" })
    };
    if !url.ends_with('/') {
        url.push('/');
    }
    url
}

pub fn room_url(base: &str, room: &str) -> String {
    format!("{base}{room}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_resolve_against_the_page() {
        let cases = [
            (None, "http:", "localhost:8080", "ws://localhost:8080/ws/"),
            (None, "https:", "meet.example", "wss://meet.example/ws/"),
            (Some(""), "http:", "h", "ws://h/ws/"),
            (Some("/signal"), "https:", "h", "wss://h/signal/"),
            (
                Some("ws://127.0.0.1:3536/"),
                "https:",
                "h",
                "ws://127.0.0.1:3536/",
            ),
            (
                Some("ws://127.0.0.1:3536"),
                "http:",
                "h",
                "ws://127.0.0.1:3536/",
            ),
            (
                Some("https://sig.example/base"),
                "http:",
                "h",
                "wss://sig.example/base/",
            ),
            (
                Some("http://sig.example/"),
                "http:",
                "h",
                "ws://sig.example/",
            ),
        ];
        for (configured, protocol, host, want) in cases {
            assert_eq!(
                signaling_base(configured, protocol, host),
                want,
                "{configured:?}"
            );
        }
        assert_eq!(room_url("ws://h/ws/", "abc"), "ws://h/ws/abc");
    }
}
