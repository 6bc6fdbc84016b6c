//! The built app over HTTP: the page for `/` and every `/r/<room>` (deep links), the hashed assets
//! with a year-long immutable cache, everything compressed; from the app embedded in the binary
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

/// The app from `dir`, or the one embedded in the binary when `None`.
pub fn router(dir: Option<PathBuf>) -> Router {
    let app = match dir {
        None => crate::embedded::router(),
        Some(dir) => {
            let index = get(index).with_state(dir.clone());
            Router::new()
                .route("/", index.clone())
                .route("/r/{*room}", index)
                .fallback_service(ServeDir::new(dir))
        }
    };
    app.layer(middleware::from_fn(headers))
        .layer(CompressionLayer::new())
}

async fn index(State(dir): State<PathBuf>) -> Response {
    match tokio::fs::read(dir.join("index.html")).await {
        Ok(html) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE)),
            ],
            Body::from(html),
        )
            .into_response(),
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
    if res.status().is_success() && !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed { IMMUTABLE } else { NO_CACHE };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
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
    use super::is_hashed_asset;

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
