//! The built app compiled into the binary (see `build.rs`): what the server serves when no
//! `--static-dir` is given, so one copied file is a whole deployment. Same routes and headers as
//! the directory in [`crate::web`].

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode, Uri};
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

async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    match file(path) {
        Some((data, mime)) => ([(header::CONTENT_TYPE, mime)], data).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
