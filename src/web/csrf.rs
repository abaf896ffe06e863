//! CSRF protection for every state-changing request. A signed-in session's requests carry
//! its token (header `X-CSRF-Token`, form field `csrf`, or query parameter `csrf` for an
//! upload form); the sign-in form, before any session exists, carries the token of the
//! `paceline_csrf` cookie set with the form (double submit). A JSON sign-in needs none: a
//! browser cannot send JSON across sites without the CORS permission this server never gives.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::AppState;
use super::error::{PageError, WebError};
use super::session::COOKIE;

/// The cookie of the sign-in form's token.
pub const FORM_COOKIE: &str = "paceline_csrf";

/// The largest form body read for its token.
const FORM_LIMIT: usize = 4 << 20;

/// Compares without stopping at the first difference (the time taken tells nothing).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn from_query(request: &Request) -> Option<String> {
    request.uri().query().and_then(|q| {
        url_pairs(q.as_bytes())
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    })
}

fn url_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes).unwrap_or_default()
}

/// The middleware.
pub async fn guard(State(state): State<AppState>, jar: CookieJar, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    let refuse = |e: WebError| {
        if api {
            e.into_response()
        } else {
            PageError(e).into_response()
        }
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let path = request.uri().path().to_string();
    if path == "/api/login" && content_type.starts_with("application/json") {
        return next.run(request).await;
    }
    let expected = if path == "/login" {
        jar.get(FORM_COOKIE).map(|c| c.value().to_string())
    } else {
        let now = state.clock.now();
        match jar.get(COOKIE).and_then(|c| state.sessions.get(c.value(), now)) {
            Some(session) => Some(session.csrf),
            None => return refuse(WebError::Unauthenticated),
        }
    };
    let Some(expected) = expected else {
        return refuse(WebError::Csrf);
    };
    let mut given = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| from_query(&request));
    let request = if given.is_none() && content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
            return refuse(WebError::invalid("body", "the form is too large"));
        };
        given = url_pairs(&bytes).into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    match given {
        Some(given) if same(&given, &expected) => next.run(request).await,
        _ => refuse(WebError::Csrf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
