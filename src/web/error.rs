//! Errors of the web layer, as the client needs them: JSON (`{"error": ..., "field": ...}`)
//! for the API, a page (or the way to the sign-in page) for a browser.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in (or the session ended).
    #[error("sign in first")]
    Unauthenticated,
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// A state-changing request without its session's CSRF token.
    #[error("the request lacks this session's CSRF token (form field 'csrf' or header X-CSRF-Token); reload the page")]
    Csrf,
    /// Bad input, naming the field at fault.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// The login or password is wrong (which one is not said).
    #[error("the login or the password is wrong")]
    BadCredentials,
    /// Too many failed sign-ins.
    #[error("too many failed sign-ins; try again after {}", .0.format("%H:%M:%S UTC"))]
    TooManyAttempts(DateTime<Utc>),
    /// The server failed.
    #[error("the server failed: {0}")]
    Internal(#[from] anyhow::Error),
}

impl WebError {
    /// Bad input in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        WebError::Invalid {
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthenticated | WebError::BadCredentials => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON body of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// The field at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(e) = &self {
            tracing::error!(error = %e, "request failed");
        }
        let field = match &self {
            WebError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let body = ErrorBody {
            error: self.to_string(),
            field,
        };
        (self.status(), Json(body)).into_response()
    }
}

/// An error on a page: sign-in problems lead to the sign-in page, the rest is a page that
/// says what went wrong.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl From<WebError> for PageError {
    fn from(e: WebError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self.0 {
            WebError::Unauthenticated => Redirect::to("/login").into_response(),
            e => {
                if let WebError::Internal(inner) = &e {
                    tracing::error!(error = %inner, "page failed");
                }
                let status = e.status();
                let message = minijinja::HtmlEscape(&e.to_string()).to_string();
                let body = format!(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Paceline: {status}</title>\
                     <link rel=\"stylesheet\" href=\"/static/paceline.css\"></head><body><main class=\"narrow\">\
                     <h1>{status}</h1><p class=\"error\" role=\"alert\">{message}</p><p><a href=\"/\">Back</a></p></main></body></html>"
                );
                (status, axum::response::Html(body)).into_response()
            }
        }
    }
}

/// Middleware: the API's refusals that axum itself writes as plain text (a body that is not
/// the JSON asked for, a bad query string or path, an unknown route) become JSON errors like
/// every other, naming the field when serde's message does.
pub async fn api_refusals(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !api || !status.is_client_error() || is_json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let error = if text.is_empty() {
        match status {
            StatusCode::NOT_FOUND => "no such route; /api/openapi.json lists them".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => {
                "this route does not take that method; /api/openapi.json lists them".to_string()
            }
            other => other.canonical_reason().unwrap_or("refused").to_string(),
        }
    } else {
        text
    };
    let body = ErrorBody {
        field: field_of(&error),
        error,
    };
    (status, Json(body)).into_response()
}

/// The field serde's message names: the path before the message (`settings.abandon: ...`), or
/// the field a `missing field` message names.
fn field_of(message: &str) -> Option<String> {
    let detail = message.split_once("target type: ").map_or(message, |(_, d)| d);
    if let Some(rest) = detail.split_once("missing field `").map(|(_, r)| r) {
        return rest.split_once('`').map(|(f, _)| f.to_string());
    }
    let (path, _) = detail.split_once(": ")?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']');
    (!path.is_empty() && path.chars().all(plain)).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn serdes_messages_name_their_field() {
        let f = |m: &str| field_of(m);
        assert_eq!(
            f(
                "Failed to deserialize the JSON body into the target type: target: invalid value: integer `-1`, expected u32 at line 1 column 44"
            ),
            Some("target".into())
        );
        assert_eq!(
            f("Failed to deserialize the JSON body into the target type: missing field `quota` at line 1 column 20"),
            Some("quota".into())
        );
        assert_eq!(
            f(
                "Failed to deserialize the JSON body into the target type: settings.abandon.ceiling: invalid type: string \"x\", expected f64"
            ),
            Some("settings.abandon.ceiling".into())
        );
        assert_eq!(
            f("Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 0"),
            None
        );
        assert_eq!(f("Expected request with `Content-Type: application/json`"), None);
    }
}
