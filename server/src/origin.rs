//! Which browser pages may use the server: a WebSocket handshake's `Origin`, and who fetches
//! `/config.json` (TURN credentials). Never trusts a name just because the request carries it.
//!
//! A page may signal through us if its origin is an `--allowed-origin` (scheme, host and port), or if
//! it is our own page at an IP address or `localhost`: same scheme as ours (https with TLS, else
//! http) and the same authority as the request's `Host` (or `X-Forwarded-Host` from a proxy such as
//! `trunk serve`). Only those hosts are taken from the request, because DNS rebinding needs a DNS
//! name: an attacker's `evil.example` that resolves to our address makes the browser send `Origin`
//! and `Host` of `evil.example`, which match each other but no allowed origin. Pages under a DNS name
//! must be listed. A page cannot set headers on a WebSocket handshake, and browsers always send
//! `Origin` there, so requests without it (matchbox clients, load generators) are not pages and pass.

use axum::http::{header, HeaderMap, HeaderName};

/// `scheme://host[:port]` with the scheme's default port filled in; the host lowercase, IPv6 in
/// brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

/// Splits `host[:port]` (with `[v6]` literals); `None` if empty or the port is not a number.
fn parse_authority(s: &str, default: u16) -> Option<(String, u16)> {
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
        Some(p) => p.parse().ok()?,
        None => default,
    };
    (!host.is_empty()).then_some((host, port))
}

/// A host no DNS answer can make a browser use for another site's page: an IP literal or
/// `localhost` (which browsers resolve to loopback themselves).
fn is_unspoofable(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host == "localhost" || bare.parse::<std::net::IpAddr>().is_ok()
}

impl Origin {
    /// Parses an `Origin` header or an `--allowed-origin` entry; only http and https pages exist.
    pub fn parse(s: &str) -> Option<Self> {
        let (scheme, rest) = s.trim().split_once("://")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => "http",
            "https" => "https",
            _ => return None,
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '@', '?', '#']) {
            return None;
        }
        let (host, port) = parse_authority(authority, default_port(scheme))?;
        Some(Self { scheme, host, port })
    }
}

/// The server's own scheme and the configured origins, ready to check requests against.
#[derive(Debug, Clone)]
pub struct Origins {
    scheme: &'static str,
    allowed: Vec<Origin>,
    any: bool,
}

/// Why a page's request is refused; the text is the body of the 403.
pub type Refusal = &'static str;

impl Origins {
    /// `tls`: whether we serve https. Entries that do not parse are skipped (`Config::validate`
    /// refuses them before serving).
    pub fn new(allowed: &[String], tls: bool) -> Self {
        Self {
            scheme: if tls { "https" } else { "http" },
            allowed: allowed.iter().filter_map(|a| Origin::parse(a)).collect(),
            any: allowed.iter().any(|a| a == "*"),
        }
    }

    /// Whether a page at `origin` may use us; `hosts` are the request's `Host` and
    /// `X-Forwarded-Host` values (comma-separated lists are split).
    fn page_allowed(&self, origin: &str, hosts: &[&str]) -> bool {
        if self.any {
            return true;
        }
        let Some(origin) = Origin::parse(origin) else {
            return false;
        };
        if self.allowed.contains(&origin) {
            return true;
        }
        origin.scheme == self.scheme
            && is_unspoofable(&origin.host)
            && hosts
                .iter()
                .flat_map(|h| h.split(','))
                .filter_map(|h| parse_authority(h, default_port(self.scheme)))
                .any(|(host, port)| host == origin.host && port == origin.port)
    }

    /// Whether a WebSocket handshake with these headers may proceed.
    pub fn websocket(&self, headers: &HeaderMap) -> bool {
        match header_str(headers, &header::ORIGIN) {
            None => true,
            Some(origin) => self.page_allowed(origin, &request_hosts(headers)),
        }
    }

    /// Whether a `GET /config.json` comes from our own page. Browsers send no `Origin` on a
    /// same-origin GET, but they do send `Sec-Fetch-Site` (on https and loopback pages) and always
    /// `Host`, which under DNS rebinding is the attacker's name.
    pub fn page_fetch(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if !matches!(site, None | Some("same-origin" | "none")) {
            return Err("Only this server's own page may fetch its configuration.\n");
        }
        if let Some(origin) = header_str(headers, &header::ORIGIN) {
            if !self.page_allowed(origin, &request_hosts(headers)) {
                return Err("This origin may not use this server.\n");
            }
        }
        let host = header_str(headers, &header::HOST)
            .and_then(|h| parse_authority(h, default_port(self.scheme)));
        match host {
            Some((host, _))
                if !self.any
                    && !is_unspoofable(&host)
                    && !self.allowed.iter().any(|a| a.host == host) =>
            {
                Err("This server does not answer to that name: add its origin with --allowed-origin.\n")
            }
            _ => Ok(()),
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn request_hosts(headers: &HeaderMap) -> Vec<&str> {
    [header::HOST, HeaderName::from_static("x-forwarded-host")]
        .iter()
        .flat_map(|name| headers.get_all(name))
        .filter_map(|v| v.to_str().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn websocket_table() {
        let none = Origins::new(&[], false);
        let tls = Origins::new(&[], true);
        let list = Origins::new(
            &[
                "https://meet.example.com".to_owned(),
                "http://dev.local:8081".to_owned(),
            ],
            false,
        );
        let star = Origins::new(&["*".to_owned()], false);
        // (origins, Origin, Host values, allowed?)
        let cases: &[(&Origins, Option<&str>, &[&str], bool)] = &[
            (&none, None, &["a:1"], true),
            (
                &none,
                Some("http://127.0.0.1:8080"),
                &["127.0.0.1:8080"],
                true,
            ),
            (
                &none,
                Some("http://LOCALHOST:8080"),
                &["localhost:8080"],
                true,
            ),
            (&none, Some("http://[::1]:8080"), &["[::1]:8080"], true),
            (&none, Some("http://10.0.0.7"), &["10.0.0.7:80"], true),
            (
                &none,
                Some("http://127.0.0.1:8081"),
                &["127.0.0.1:8080"],
                false,
            ),
            (&none, Some("https://evil.example"), &["x.example"], false),
            (&none, Some("null"), &["x.example"], false),
            (&none, Some("http://x.example"), &[], false),
            // DNS rebinding: Origin and Host agree, but on a name nobody listed.
            (
                &none,
                Some("http://evil.example:8080"),
                &["evil.example:8080"],
                false,
            ),
            (&none, Some("https://x.example"), &["x.example"], false),
            // The scheme counts: an http page may not use an https server, nor the reverse.
            (
                &tls,
                Some("https://127.0.0.1:8443"),
                &["127.0.0.1:8443"],
                true,
            ),
            (&tls, Some("http://127.0.0.1:443"), &["127.0.0.1"], false),
            (&none, Some("https://127.0.0.1"), &["127.0.0.1:443"], false),
            // `trunk serve` on :8081 proxying to us: Host is rewritten, X-Forwarded-Host is not.
            (
                &none,
                Some("http://127.0.0.1:8081"),
                &["127.0.0.1", "127.0.0.1:8081"],
                true,
            ),
            (
                &none,
                Some("https://evil.example"),
                &["127.0.0.1", "evil.example"],
                false,
            ),
            (
                &list,
                Some("https://meet.example.com"),
                &["10.0.0.1:8080"],
                true,
            ),
            (&list, Some("https://meet.example.com:443/"), &["x"], true),
            (
                &list,
                Some("http://meet.example.com"),
                &["meet.example.com"],
                false,
            ),
            (&list, Some("https://meet.example.com:8443"), &["x"], false),
            (
                &list,
                Some("http://dev.local:8081"),
                &["10.0.0.1:8080"],
                true,
            ),
            (&star, Some("https://evil.example"), &["x"], true),
        ];
        for (origins, origin, hosts, want) in cases {
            let mut h = HeaderMap::new();
            if let Some(origin) = origin {
                h.insert(header::ORIGIN, origin.parse().unwrap());
            }
            for (i, host) in hosts.iter().enumerate() {
                let name = if i == 0 { "host" } else { "x-forwarded-host" };
                h.append(name, host.parse().unwrap());
            }
            assert_eq!(
                origins.websocket(&h),
                *want,
                "{origin:?} {hosts:?} {origins:?}"
            );
        }
    }

    #[test]
    fn page_fetch_table() {
        let none = Origins::new(&[], false);
        let list = Origins::new(&["https://meet.example.com".to_owned()], false);
        let ok: Result<(), Refusal> = Ok(());
        // What Chromium sends for the app's own fetch("/config.json").
        let own = [
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert_eq!(none.page_fetch(&headers(&own)), ok);
        assert_eq!(none.page_fetch(&headers(&[("host", "localhost:8080")])), ok);
        assert_eq!(none.page_fetch(&headers(&[("sec-fetch-site", "none")])), ok);
        assert_eq!(
            list.page_fetch(&headers(&[("host", "meet.example.com")])),
            ok
        );
        // Another site's page, even one the browser lets read nothing.
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", site)]);
            assert!(none.page_fetch(&h).is_err(), "{site}");
        }
        let foreign = [
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ];
        assert!(none.page_fetch(&headers(&foreign)).is_err());
        // DNS rebinding: same-origin in the browser's eyes, under the attacker's name.
        let rebound = [
            ("host", "evil.example:8080"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(none.page_fetch(&headers(&rebound)).is_err());
        assert!(list.page_fetch(&headers(&rebound)).is_err());
    }
}
