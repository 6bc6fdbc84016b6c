//! The built app compiled into the binary (see `build.rs`): what the server serves when no
//! `--static-dir` is given, so one copied file is a whole deployment. Same routes and headers as
//! the directory in [`crate::web`].

use std::borrow::Cow;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// `<workspace>/dist` as it was when this crate was compiled.
#[derive(rust_embed::Embed)]
#[folder = "../dist/"]
pub struct App;

pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/r/{*room}", get(index))
        .route("/index.html", get(index))
        .fallback(asset)
}

/// The embedded file at `path` (no leading slash), if the app was built when this was compiled.
pub fn file(path: &str) -> Option<(Cow<'static, [u8]>, String)> {
    let file = App::get(path)?;
    let mime = file.metadata.mimetype().to_owned();
    Some((file.data, mime))
}

/// Whether the binary carries a built app (`index.html`).
pub fn has_app() -> bool {
    App::get("index.html").is_some()
}

async fn index() -> Response {
    match App::get("index.html") {
        Some(html) => {
            // The policy allows exactly this page's inline loader, as for a `--static-dir` page.
            let csp = HeaderValue::from_str(&crate::web::page_csp(&html.data));
            let csp = csp.unwrap_or(HeaderValue::from_static(crate::web::CSP));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static(crate::web::NO_CACHE),
                    ),
                    (header::CONTENT_SECURITY_POLICY, csp),
                ],
                html.data,
            )
                .into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, crate::web::NOT_BUILT).into_response(),
    }
}

async fn asset(uri: Uri, request: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let Some((data, mime)) = file(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The build's brotli or gzip copy (scripts/slim-dist.mjs), as it is, when the browser takes it;
    // otherwise the file, which the compression layer compresses per request. `Vary` is added to
    // either by `web::headers`.
    let accepted = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for (encoding, suffix) in [("br", "br"), ("gzip", "gz")] {
        if !accepts(accepted, encoding) {
            continue;
        }
        if let Some(copy) = App::get(&format!("{path}.{suffix}")) {
            let headers = [
                (header::CONTENT_TYPE, mime),
                (header::CONTENT_ENCODING, encoding.to_owned()),
            ];
            return (headers, copy.data).into_response();
        }
    }
    ([(header::CONTENT_TYPE, mime)], data).into_response()
}

/// Whether an `Accept-Encoding` value takes `encoding`: named without `q=0`, or not named and `*`
/// without `q=0`.
fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    let items = accept_encoding.split(',').map(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name, !refused)
    });
    let (mut named, mut any) = (None, None);
    for (name, taken) in items {
        if name.eq_ignore_ascii_case(encoding) {
            named = Some(taken);
        } else if name == "*" {
            any = Some(taken);
        }
    }
    named.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(accepts("*", "br"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("br; q=0.0", "br"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("brotli", "br"));
        assert!(!accepts("br;q=0, *", "br"));
        assert!(!accepts("*;q=0", "gzip"));
    }
}
