//! The built app over HTTP: the page for `/` and every `/r/<room>` (deep links), the hashed assets
//! with a year-long immutable cache, everything compressed (the build's precompressed copies where
//! it made them), and a Content-Security-Policy that lets
//! only the app's own code run and no other site frame it; from the app embedded in the binary
//! ([`crate::embedded`]) or from a directory given by `--static-dir`. Never fails when the app is
//! missing: the page routes then explain how to build it.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

pub const NOT_BUILT: &str =
    "meshcall: the app is not built yet. Run `make run` (or `trunk build --release`), then reload.\n";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub(crate) const NO_CACHE: &str = "no-cache";

/// The page's policy, before the hashes of its inline scripts: scripts and styles only from here
/// (plus `'wasm-unsafe-eval'` to compile the app's wasm), sockets to any signaling server (the app
/// asks the person before using a foreign one), no plugins, no `<base>`, and never in a frame.
pub(crate) const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; \
connect-src 'self' ws: wss:; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'; script-src 'self' 'wasm-unsafe-eval'";

/// The app from `dir`, or the one embedded in the binary when `None`.
pub fn router(dir: Option<PathBuf>) -> Router {
    let app = match dir {
        None => crate::embedded::router(),
        Some(dir) => {
            let index = get(index).with_state(dir.clone());
            Router::new()
                .route("/", index.clone())
                .route("/r/{*room}", index.clone())
                .route("/index.html", index)
                .fallback_service(
                    // The build's `.br` and `.gz` copies (scripts/slim-dist.mjs) as they are, to
                    // a browser that takes them; anything else compressed below per request.
                    ServeDir::new(dir).precompressed_br().precompressed_gzip(),
                )
        }
    };
    app.layer(middleware::from_fn(headers))
        .layer(CompressionLayer::new())
}

async fn index(State(dir): State<PathBuf>) -> Response {
    match tokio::fs::read(dir.join("index.html")).await {
        Ok(html) => {
            let csp = page_csp(&html);
            let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CSP));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE)),
                    (header::CONTENT_SECURITY_POLICY, csp),
                ],
                Body::from(html),
            )
                .into_response()
        }
        Err(err) => {
            tracing::debug!(dir = %dir.display(), %err, "index.html unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT).into_response()
        }
    }
}

async fn headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(req.uri().path());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    // The room name in `/r/<room>` is what lets people in: never leak it to other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // For browsers without CSP's frame-ancestors: never inside another site's frame.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    // A precompressed copy (from `ServeDir` or the embedded app) says nothing of the choice it was
    // (the per-request compression does): a cache between must not give it to a browser that
    // cannot read it.
    if res.headers().contains_key(header::CONTENT_ENCODING)
        && !res.headers().contains_key(header::VARY)
    {
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if res.status().is_success() && !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed { IMMUTABLE } else { NO_CACHE };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// [`CSP`] allowing exactly the inline scripts of `html` (Trunk's loader that starts the wasm) by
/// their SHA-256, computed from the file served, so a rebuild never needs a policy edit.
pub fn page_csp(html: &[u8]) -> String {
    use base64::Engine as _;
    let mut csp = CSP.to_owned();
    for script in inline_scripts(html) {
        let digest = ring::digest::digest(&ring::digest::SHA256, script);
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        csp.push_str(&format!(" 'sha256-{hash}'"));
    }
    csp
}

/// The bodies of `<script>` elements without `src`, byte for byte as the browser hashes them.
fn inline_scripts(html: &[u8]) -> Vec<&[u8]> {
    let lower = html.to_ascii_lowercase();
    let find = |from: usize, needle: &[u8]| {
        lower[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut scripts = Vec::new();
    let mut at = 0;
    while let Some(open) = find(at, b"<script") {
        let Some(tag_end) = find(open, b">") else {
            break;
        };
        let Some(close) = find(tag_end, b"</script") else {
            break;
        };
        let tag = &lower[open..tag_end];
        let has_src = tag
            .windows(4)
            .enumerate()
            .any(|(i, w)| w == b"src=" && i > 0 && tag[i - 1].is_ascii_whitespace());
        if !has_src {
            scripts.push(&html[tag_end + 1..close]);
        }
        at = close;
    }
    scripts
}

/// Trunk names what it hashes `<name>-<hex hash>[_bg].<ext>` (up to 16 hex digits): such a URL never changes content.
pub fn is_hashed_asset(path: &str) -> bool {
    let file = Path::new(path)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("");
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    if !matches!(
        ext,
        "js" | "wasm" | "css" | "map" | "png" | "svg" | "woff2" | "ico"
    ) {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() >= 10 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::{inline_scripts, is_hashed_asset};

    #[test]
    fn finds_inline_scripts_only() {
        let html = br#"<html><script src=/a-0123456789.js></script><SCRIPT type=module>import init from '/a.js';
await init();</SCRIPT><script defer   src="/b.js"></script><script>x()</script>"#;
        let found: Vec<&[u8]> = inline_scripts(html);
        assert_eq!(
            found,
            [
                &b"import init from '/a.js';\nawait init();"[..],
                &b"x()"[..]
            ]
        );
        assert!(inline_scripts(b"<script>unterminated").is_empty());
    }

    #[test]
    fn hashed_assets() {
        for yes in [
            "/meshcall-4f1c2d3e4a5b6c7d.js",
            "/meshcall-4f1c2d3e4a5b6c7d_bg.wasm",
            "/style-0123456789abcdef0123.css",
        ] {
            assert!(is_hashed_asset(yes), "{yes}");
        }
        for no in [
            "/index.html",
            "/meshcall.js",
            "/my-room.css",
            "/a-xyz0123456789abcd.js",
            "/",
        ] {
            assert!(!is_hashed_asset(no), "{no}");
        }
    }
}
