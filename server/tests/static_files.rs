//! The built app: `/` and deep links get the page, hashed assets are cached for a year, text is
//! compressed, and a missing build says how to make it instead of crashing.

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use meshcall_server::{build_app, AppState, Config};
use tower::ServiceExt;

const INDEX: &str =
    "<!doctype html><title>meshcall</title><script src=/meshcall-0123456789abcdef.js></script>";

fn dist() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshcall-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    let js = "export function start() { console.log('meshcall'); }\n".repeat(200);
    std::fs::write(dir.join("meshcall-0123456789abcdef.js"), js).unwrap();
    std::fs::write(
        dir.join("meshcall-0123456789abcdef_bg.wasm"),
        vec![0u8; 4096],
    )
    .unwrap();
    dir
}

async fn get(
    config: &Config,
    path: &str,
    gzip: bool,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let app = build_app(AppState::new(config.clone()));
    let mut req = Request::get(path);
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip");
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn the_page_is_served_for_the_root_and_every_room_link() {
    let config = Config {
        static_dir: Some(dist()),
        ..Config::default()
    };
    for path in ["/", "/r/standup", "/r/Team_42-x"] {
        let (status, headers, body) = get(&config, path, false).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, INDEX.as_bytes(), "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
        // The room name is the key to the room: it must not leak through Referer.
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    std::fs::remove_dir_all(config.static_dir.unwrap()).unwrap();
}

/// The page as Trunk builds it: an inline module script starts the wasm. The policy lets exactly
/// that script run (by its SHA-256, computed here independently), lets wasm compile, and forbids
/// every other script source and any framing.
#[tokio::test]
async fn the_page_has_a_content_security_policy_that_runs_only_the_app() {
    use base64::Engine as _;
    let loader = "import init, * as bindings from '/meshcall-0123456789abcdef.js';\nconst wasm = await init({ module_or_path: '/meshcall-0123456789abcdef_bg.wasm' });";
    let html = format!(
        "<!doctype html><html><head><script type=module>{loader}</script><link rel=modulepreload href=/meshcall-0123456789abcdef.js></head><body></body></html>"
    );
    let dir = dist();
    let config = Config {
        static_dir: Some(dir.clone()),
        ..Config::default()
    };
    std::fs::write(dir.join("index.html"), &html).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, loader.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest);

    for path in ["/", "/r/standup", "/index.html"] {
        let (status, headers, body) = get(&config, path, false).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, html.as_bytes());
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.split(' ').next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} in {csp}"))
                .to_owned()
        };
        assert_eq!(
            directive("script-src"),
            format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(directive("default-src"), "default-src 'none'");
        assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
        assert_eq!(directive("base-uri"), "base-uri 'none'");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
    // Every other response is never framed either.
    let (_, headers, _) = get(&config, "/meshcall-0123456789abcdef.js", false).await;
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_compressed() {
    let config = Config {
        static_dir: Some(dist()),
        ..Config::default()
    };
    let (status, headers, body) = get(&config, "/meshcall-0123456789abcdef.js", true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert!(body.len() < 2_000, "compressed to {} bytes", body.len());

    let (status, headers, _) = get(&config, "/meshcall-0123456789abcdef_bg.wasm", true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    let (status, _, _) = get(&config, "/nope-0123456789abcdef.js", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    std::fs::remove_dir_all(config.static_dir.unwrap()).unwrap();
}

/// The build's own `.br` and `.gz` copies (scripts/slim-dist.mjs) go out as they are, each to a
/// browser that takes it, so no download waits for the server to compress the wasm; a browser
/// that takes neither gets the file itself.
#[tokio::test]
async fn precompressed_copies_are_sent_as_they_are() {
    let dir = dist();
    let wasm = "meshcall-0123456789abcdef_bg.wasm";
    // Not real brotli or gzip: only the build's own copies could hold these bytes.
    std::fs::write(dir.join(format!("{wasm}.br")), b"brotli copy").unwrap();
    std::fs::write(dir.join(format!("{wasm}.gz")), b"gzip copy").unwrap();
    let config = Config {
        static_dir: Some(dir.clone()),
        ..Config::default()
    };
    let app = build_app(AppState::new(config));
    let fetch = |accept: &'static str| {
        let app = app.clone();
        async move {
            let mut req = Request::get(format!("/{wasm}"));
            if !accept.is_empty() {
                req = req.header(header::ACCEPT_ENCODING, accept);
            }
            let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let (parts, body) = res.into_parts();
            let body = body.collect().await.unwrap().to_bytes().to_vec();
            (parts.status, parts.headers, body)
        }
    };
    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), &b"brotli copy"[..]),
        ("gzip", Some("gzip"), &b"gzip copy"[..]),
        ("", None, &[0u8; 4096][..]),
    ] {
        let (status, headers, got) = fetch(accept).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/wasm",
            "{accept}"
        );
        assert_eq!(
            headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(got, body, "{accept}");
        if encoding.is_some() {
            assert_eq!(headers[header::VARY], "accept-encoding", "{accept}");
        }
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_missing_build_says_how_to_make_it_and_the_rest_still_works() {
    let config = Config {
        static_dir: Some("/nonexistent/meshcall-dist".into()),
        ..Config::default()
    };
    for path in ["/", "/r/room"] {
        let (status, _, body) = get(&config, path, false).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(String::from_utf8(body).unwrap().contains("make run"));
    }
    let (status, _, body) = get(&config, "/healthz", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains(r#""status":"ok""#));

    // And signaling works over the network without a build.
    let server = common::start(config).await;
    server.join("room").await;
}

/// One file is a deployment: the binary, copied away from the workspace and run from elsewhere with
/// no `--static-dir`, serves exactly the app that `dist/` held when it was built (or, on a fresh
/// clone, the page that says how to build it).
#[tokio::test]
async fn a_copied_binary_serves_the_app_it_was_built_with() {
    let dir = std::env::temp_dir().join(format!("meshcall-deploy-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("meshcall-server");
    std::fs::copy(env!("CARGO_BIN_EXE_meshcall-server"), &exe).unwrap();
    let mut command = std::process::Command::new(&exe);
    command.current_dir(&dir).env_remove("MESHCALL_STATIC_DIR");
    let server = common::spawn_command(command).await;
    let addr = server.addr.parse().unwrap();

    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist");
    let index = std::fs::read_to_string(dist.join("index.html")).ok();
    for path in ["/", "/r/standup"] {
        let (status, headers, body) = common::http_get(addr, path).await;
        match &index {
            Some(index) => {
                assert_eq!(status, 200, "{path}");
                assert_eq!(&body, index, "{path}");
                assert_eq!(common::header(&headers, "cache-control"), Some("no-cache"));
                // The embedded page gets the same policy as a `--static-dir` one: its own loader's hash.
                let csp = common::header(&headers, "content-security-policy").unwrap_or("");
                assert!(
                    csp.contains("'sha256-") && csp.contains("frame-ancestors 'none'"),
                    "{path}: {csp}"
                );
            }
            None => {
                assert_eq!(status, 503, "{path}");
                assert!(body.contains("make run"), "{body}");
            }
        }
    }
    // Every asset of the build, with its type; the text ones compare byte for byte.
    for entry in std::fs::read_dir(&dist).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if !entry.file_type().unwrap().is_file() || name.starts_with('.') {
            continue;
        }
        let (status, headers, body) = common::http_get(addr, &format!("/{name}")).await;
        assert_eq!(status, 200, "{name}");
        let on_disk = std::fs::read(entry.path()).unwrap();
        if let Ok(text) = String::from_utf8(on_disk) {
            assert_eq!(body, text, "{name}");
        }
        let kind = common::header(&headers, "content-type").unwrap_or("");
        if name.ends_with(".wasm") {
            assert_eq!(kind, "application/wasm");
        }
        if name.ends_with(".js") {
            assert!(kind.contains("javascript"), "{name}: {kind}");
        }
    }
    // The build's precompressed copies, sent as they are to a browser that takes them.
    for entry in std::fs::read_dir(&dist).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        for (suffix, accept, encoding) in
            [("br", "gzip, deflate, br", "br"), ("gz", "gzip", "gzip")]
        {
            let Some(original) = name.strip_suffix(&format!(".{suffix}")) else {
                continue;
            };
            let path = format!("/{original}");
            let headers_in = [("Accept-Encoding", accept)];
            let (status, headers, body) =
                common::http_get_from(addr, "127.0.0.1", &path, &headers_in).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(common::header(&headers, "content-encoding"), Some(encoding));
            assert_eq!(common::header(&headers, "vary"), Some("accept-encoding"));
            let copy = std::fs::read(dist.join(&name)).unwrap();
            assert_eq!(body, String::from_utf8_lossy(&copy), "{path} {encoding}");
        }
    }
    let (status, _, _) = common::http_get(addr, "/nope-0123456789abcdef.js").await;
    assert_eq!(status, 404);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
