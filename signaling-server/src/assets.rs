//! The browser client (`assets/web/`), embedded at build time so the binary runs on its own.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use include_dir::{Dir, include_dir};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../assets/web");

/// Serves a file by URL path. `/` and the share links `/r/{code}` get the client's `index.html`.
pub fn serve(path: &str) -> Response<Full<Bytes>> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() || rel.starts_with("r/") { "index.html" } else { rel };
    let file =
        (!rel.split('/').any(|seg| seg == ".." || seg.is_empty())).then(|| WEB.get_file(rel)).flatten();
    let Some(file) = file else {
        let mut res = Response::new(Full::new(Bytes::from_static(b"not found\n")));
        *res.status_mut() = StatusCode::NOT_FOUND;
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return res;
    };
    let mime = mime_guess::from_path(rel).first_or_octet_stream();
    // The page's translations (`i18n/*.ftl`, Project Fluent), which mime_guess does not know.
    let mime = if rel.ends_with(".ftl") { "text/plain; charset=utf-8" } else { mime.as_ref() };
    let mut res = Response::new(Full::new(Bytes::from_static(file.contents())));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}
