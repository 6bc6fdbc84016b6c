//! Cross-site WebSocket hijacking guard: a browser page may open our socket only from our own host
//! or an allowed origin. Requests without `Origin` (matchbox clients, load generators) pass:
//! browsers always send it on WebSocket handshakes, so only non-browser clients omit it.
//!
//! "Our own host" is the `Host` header or, behind a proxy that rewrites it (nginx, `trunk serve`),
//! `X-Forwarded-Host`. Trusting the latter opens nothing: a page cannot set headers on a
//! WebSocket handshake, so only a proxy or a non-browser client (which can omit `Origin`) sends it.

/// `Some("https")`-style scheme, lowercase host, and explicit or default port.
#[derive(Debug, PartialEq, Eq)]
struct Authority {
    host: String,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` (with `[v6]` literals); `None` if the port is not a number.
fn parse_authority(s: &str, default: Option<u16>) -> Option<Authority> {
    let s = s.trim().to_ascii_lowercase();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (format!("[{host}]"), after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (s.clone(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => default,
    };
    (!host.is_empty()).then_some(Authority { host, port })
}

/// Parses `scheme://host[:port]` into (scheme, authority).
fn parse_origin(origin: &str) -> Option<(String, Authority)> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split('/').next()?;
    let parsed = parse_authority(authority, default_port(&scheme))?;
    Some((scheme, parsed))
}

/// Whether a WebSocket handshake with these headers may proceed.
/// `hosts` are the request's `Host` and any `X-Forwarded-Host` values (comma-separated lists are split).
pub fn allowed(origin: Option<&str>, hosts: &[&str], allowed_origins: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    if allowed_origins.iter().any(|a| a == "*") {
        return true;
    }
    let Some((scheme, from)) = parse_origin(origin) else {
        return false;
    };
    let own = hosts.iter().flat_map(|h| h.split(','));
    if own
        .filter_map(|h| parse_authority(h, default_port(&scheme)))
        .any(|host| host == from)
    {
        return true;
    }
    allowed_origins.iter().any(|a| match parse_origin(a) {
        Some((s, auth)) => s == scheme && auth == from,
        // An entry without a scheme (`meet.example.com:8443`) matches any scheme.
        None => parse_authority(a, default_port(&scheme)).is_some_and(|auth| auth == from),
    })
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn table() {
        let none: &[String] = &[];
        let list = [
            "https://meet.example.com".to_owned(),
            "dev.local:8081".to_owned(),
        ];
        // (Origin, Host, allowed origins, allowed?)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [String], bool);
        let cases: &[Case] = &[
            (None, Some("a:1"), none, true),
            (
                Some("http://127.0.0.1:8080"),
                Some("127.0.0.1:8080"),
                none,
                true,
            ),
            (
                Some("http://LOCALHOST:8080"),
                Some("localhost:8080"),
                none,
                true,
            ),
            (Some("https://x.example"), Some("x.example"), none, true),
            (Some("https://x.example"), Some("x.example:443"), none, true),
            (Some("http://[::1]:8080"), Some("[::1]:8080"), none, true),
            (
                Some("http://127.0.0.1:8081"),
                Some("127.0.0.1:8080"),
                none,
                false,
            ),
            (Some("https://evil.example"), Some("x.example"), none, false),
            (Some("null"), Some("x.example"), none, false),
            (Some("http://x.example"), None, none, false),
            // `trunk serve` on :8081 proxying to us: Host is rewritten, X-Forwarded-Host is not.
            (
                Some("http://127.0.0.1:8081"),
                Some("127.0.0.1,127.0.0.1:8081"),
                none,
                true,
            ),
            (
                Some("https://evil.example"),
                Some("127.0.0.1,127.0.0.1:8081"),
                none,
                false,
            ),
            (
                Some("https://meet.example.com"),
                Some("10.0.0.1:8080"),
                &list,
                true,
            ),
            (
                Some("http://meet.example.com"),
                Some("10.0.0.1:8080"),
                &list,
                false,
            ),
            (
                Some("http://dev.local:8081"),
                Some("10.0.0.1:8080"),
                &list,
                true,
            ),
            (
                Some("https://evil.example"),
                Some("x"),
                &["*".to_owned()],
                true,
            ),
        ];
        for (origin, host, list, want) in cases {
            let hosts: Vec<&str> = host.iter().copied().collect();
            assert_eq!(
                allowed(*origin, &hosts, list),
                *want,
                "{origin:?} {host:?} {list:?}"
            );
        }
    }
}
