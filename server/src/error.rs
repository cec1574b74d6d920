//! Errors as each API answers them. Clerk's routes answer
//! `{"errors":[{"code","message","long_message","meta"}]}` (the shape of
//! Clerk's SDKs' `ClerkError`); Ding's routes answer Ding's flat
//! `{"code","message"}` (its SDKs' `ErrorResponse`), through the
//! [`ding_shape`] layer. A handler builds one [`ApiError`] either way.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An answer other than success: a status, a machine-readable code, a
/// short message, and a longer one a person can act on.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable snake_case code, for programs.
    pub code: &'static str,
    /// A few words, for people (Clerk's `message`).
    pub message: String,
    /// What happened and what to do (Clerk's `long_message`, Ding's
    /// `message`).
    pub long_message: String,
    /// Extra fields for the error object (e.g. `lockout_expires_in_seconds`).
    pub meta: Option<Value>,
    /// Seconds to wait before asking again, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message` (also its long form).
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            code,
            long_message: message.clone(),
            message,
            meta: None,
            retry_after: None,
        }
    }

    /// 404: nothing under that id.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            format!("{what} not found"),
        )
    }

    /// The long message, where it says more than the short one.
    #[must_use]
    pub fn with_long_message(mut self, long_message: impl Into<String>) -> Self {
        self.long_message = long_message.into();
        self
    }

    /// Says when to ask again (`Retry-After`, seconds).
    #[must_use]
    pub const fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds the error object's `meta`.
    #[must_use]
    pub fn with_meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }

    /// 500, logged; the client learns nothing of the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server could not complete the request; it has been logged",
        )
    }

    /// Clerk's error list.
    fn clerk_body(&self) -> Value {
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "long_message": self.long_message,
        });
        if let Some(meta) = &self.meta {
            error["meta"] = meta.clone();
        }
        json!({ "errors": [error] })
    }

    /// Ding's flat error: its status and code. Ding answers a bad request
    /// with 400 and a code from its list; errors this server names
    /// otherwise are mapped onto that list.
    fn ding(&self) -> (StatusCode, &'static str) {
        match (self.status, self.code) {
            (StatusCode::INTERNAL_SERVER_ERROR, _) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error")
            }
            (StatusCode::UNAUTHORIZED, code) | (StatusCode::SERVICE_UNAVAILABLE, code) => {
                (self.status, code)
            }
            (StatusCode::PAYLOAD_TOO_LARGE, _) => (StatusCode::PAYLOAD_TOO_LARGE, "bad_request"),
            (StatusCode::TOO_MANY_REQUESTS, _) => (StatusCode::TOO_MANY_REQUESTS, "bad_request"),
            (
                _,
                code @ ("invalid_phone_number"
                | "invalid_auth_uuid"
                | "no_associated_auth_found"
                | "invalid_feedback_status"
                | "duplicated_feedback_status"
                | "unsupported_region"),
            ) => (StatusCode::BAD_REQUEST, code),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        }
    }
}

/// The code of the error a response carries, for the request's log line
/// (kept whatever shape the answer takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    /// Clerk's shape, with the error kept in the response's extensions so
    /// [`ding_shape`] can answer in Ding's instead.
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.clerk_body())).into_response();
        retry_after(&mut response, self.retry_after);
        response.extensions_mut().insert(ErrorCode(self.code));
        response.extensions_mut().insert(self);
        response
    }
}

/// The layer of Ding's routes: an [`ApiError`] is answered in Ding's flat
/// shape, `{"code","message"}`, with Ding's status for it.
pub async fn ding_shape(mut response: Response) -> Response {
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => {
            let (status, code) = error.ding();
            let body = json!({ "code": code, "message": error.long_message });
            let mut response = (status, axum::Json(body)).into_response();
            retry_after(&mut response, error.retry_after);
            response.extensions_mut().insert(ErrorCode(error.code));
            response
        }
        None => response,
    }
}

fn retry_after(response: &mut Response, seconds: Option<u64>) {
    if let Some(seconds) = seconds {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(&error)
    }
}

impl From<otpkit::Error> for ApiError {
    /// Library errors that reach here are configuration problems (a pepper
    /// missing, a clock before T0, a record that fails to load).
    fn from(error: otpkit::Error) -> Self {
        Self::internal(&error)
    }
}

impl From<JsonRejection> for ApiError {
    /// A body that is not the JSON asked for. The message names the
    /// problem (a missing field, a wrong type) but never repeats a value.
    fn from(rejection: JsonRejection) -> Self {
        let (code, message) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => (
                "unsupported_media_type",
                "send the body as JSON, with Content-Type: application/json".to_owned(),
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ("malformed_json", "the body is not valid JSON".to_owned())
            }
            JsonRejection::JsonDataError(e) => ("invalid_request_body", data_error(e)),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => (
                "body_too_large",
                "the body is larger than the server accepts".to_owned(),
            ),
            _ => (
                "invalid_request_body",
                "the body could not be read".to_owned(),
            ),
        };
        Self::new(rejection.status(), code, message)
    }
}

/// serde's description of a body that parsed but does not fit, without
/// anything that was sent: the field's path (the server's own field
/// names), the kind of value found and what was expected. `code: invalid
/// type: integer `987654321`, expected a string` becomes `code: invalid
/// type integer, expected a string`; a missing field keeps the field's
/// name; anything else is described without its details.
fn data_error(error: &axum::extract::rejection::JsonDataError) -> String {
    use std::error::Error as _;
    let cause = error
        .source()
        .map_or_else(|| error.body_text(), ToString::to_string);
    format!("the body does not fit the request: {}", described(&cause))
}

/// What [`data_error`] keeps of serde's message `cause`.
fn described(cause: &str) -> String {
    const KINDS: [&str; 7] = [
        "invalid type",
        "invalid value",
        "invalid length",
        "missing field",
        "unknown variant",
        "unknown field",
        "duplicate field",
    ];
    let cause = cause.split(" at line ").next().unwrap_or_default();
    let Some((at, kind)) = KINDS
        .iter()
        .filter_map(|kind| cause.find(kind).map(|at| (at, *kind)))
        .min_by_key(|(at, _)| *at)
    else {
        return "a field has a value of the wrong shape".to_owned();
    };
    // The path axum puts first names the server's own fields: kept only
    // when it is made of their letters.
    let path = cause[..at].trim().trim_end_matches(':');
    let path = if !path.is_empty()
        && path.len() <= 64
        && path
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b"_.".contains(&b))
    {
        format!("{path}: ")
    } else {
        String::new()
    };
    let rest = &cause[at + kind.len()..];
    let expected = rest.rfind("expected").map(|e| &rest[e..]);
    let detail = match kind {
        // The field is the server's own name.
        "missing field" => cause[at..].to_owned(),
        "invalid type" | "invalid value" => {
            // `: integer `5`, expected …`: the kind of value, not the value.
            let found = rest
                .trim_start_matches(':')
                .split(['`', '"', ','])
                .next()
                .unwrap_or_default()
                .trim();
            let found = if found.bytes().all(|b| b.is_ascii_lowercase() || b == b' ') {
                found
            } else {
                ""
            };
            format!("{kind} {found}").trim().to_owned()
        }
        _ => kind.to_owned(),
    };
    match expected {
        // What was expected is the server's own description.
        Some(expected) if kind != "unknown field" => format!("{path}{detail}, {expected}"),
        _ => format!("{path}{detail}"),
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        Self::new(rejection.status(), "invalid_form", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(rejection.status(), "invalid_query", rejection.body_text())
    }
}

/// A failure to start, with what to do about it.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

#[cfg(test)]
mod tests {
    use super::described;

    #[test]
    fn serde_messages_lose_what_was_sent() {
        for (cause, expected) in [
            (
                "code: invalid type: integer `987654321`, expected a string at line 1 column 18",
                "code: invalid type integer, expected a string",
            ),
            (
                "invalid type: string \"x987654321x\", expected u32",
                "invalid type string, expected u32",
            ),
            (
                "code: invalid type: floating point `9876543210.5`, expected a string",
                "code: invalid type floating point, expected a string",
            ),
            ("missing field `code`", "missing field `code`"),
            (
                "k987654321: invalid value: string \"x\", expected a UUID",
                "invalid value string, expected a UUID",
            ),
            ("unknown field `x987654321`", "unknown field"),
            ("x987654321", "a field has a value of the wrong shape"),
        ] {
            assert_eq!(described(cause), expected, "{cause}");
        }
    }
}
