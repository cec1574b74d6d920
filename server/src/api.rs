//! The JSON API: Clerk's TOTP endpoints and Ding's OTP endpoints, behind a
//! bearer API key. Each handler checks its input, calls the service and
//! shapes the answer; see the README for the table of routes.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use otpkit::TotpOutcome;
use otpkit::challenge::{CheckOutcome, RetryOutcome};
use otpkit::record::CodeType;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::service::Service;

/// Requests larger than this are refused with 413 before parsing.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The key every `/v1` call presents as `Authorization: Bearer <key>`.
pub struct ApiKey(String);

impl ApiKey {
    /// The key `key`.
    ///
    /// # Errors
    /// A key shorter than 16 characters (too easy to guess).
    pub fn new(key: String) -> Result<Self, String> {
        if key.len() < 16 {
            return Err("the API key must be at least 16 characters".into());
        }
        Ok(Self(key))
    }

    /// Whether `presented` is the key, compared in constant time.
    fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub service: Service,
    /// The API key.
    pub api_key: Arc<ApiKey>,
}

/// A JSON body whose rejections answer in the API's error format.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// The `/v1` routes, and `/dev/outbox` when `dev`.
pub fn router(state: AppState, dev: bool) -> Router {
    let mut v1 = Router::new()
        .route(
            "/v1/users/{user_id}/totp",
            post(create_totp).get(get_totp).delete(delete_totp),
        )
        .route(
            "/v1/users/{user_id}/totp/attempt_verification",
            post(attempt_verification),
        )
        .route("/v1/users/{user_id}/verify_totp", post(verify_totp))
        .route(
            "/v1/users/{user_id}/backup_codes",
            post(create_backup_codes),
        )
        .route("/v1/authentication", post(create_authentication))
        .route("/v1/check", post(check))
        .route("/v1/retry", post(retry));
    if dev {
        v1 = v1.route("/dev/outbox", get(outbox));
    }
    v1.route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ))
    .with_state(state)
}

async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(key) if state.api_key.matches(key) => next.run(request).await,
        _ => {
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unauthorized")
                    .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
    }
}

/// The user id of a `/v1/users/{user_id}/…` path, checked by [`user_id`];
/// a path that does not decode is refused the same way.
pub struct UserId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid_user_id())?;
        user_id(&id)?;
        Ok(Self(id))
    }
}

fn invalid_user_id() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_user_id",
        "a user id is 1 to 128 letters, digits or ._@+-",
    )
}

/// A user id: 1 to 128 characters of letters, digits and `._@+-`.
///
/// # Errors
/// 400 `invalid_user_id` for anything else.
pub fn user_id(id: &str) -> Result<&str, ApiError> {
    let fits = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if (1..=128).contains(&id.len()) && id.chars().all(fits) {
        Ok(id)
    } else {
        Err(invalid_user_id())
    }
}

#[derive(Deserialize)]
struct CodeRequest {
    code: String,
}

async fn create_totp(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    let created = state.service.create_totp(&id).await?;
    Ok(Json(created).into_response())
}

async fn get_totp(State(state): State<AppState>, UserId(id): UserId) -> Result<Response, ApiError> {
    Ok(Json(state.service.totp(&id).await?).into_response())
}

async fn delete_totp(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.delete_totp(&id).await?).into_response())
}

async fn attempt_verification(
    State(state): State<AppState>,
    UserId(id): UserId,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    let (outcome, resource) = state.service.check_totp(&id, request.code, false).await?;
    match (outcome, resource) {
        (TotpOutcome::Valid { backup_codes, .. }, Some(resource)) => {
            let shown = match backup_codes {
                Some(codes) => resource.with_backup_codes(codes),
                None => resource,
            };
            Ok(Json(shown).into_response())
        }
        // Every refusal; `Valid` always comes with its view.
        (refused, _) => {
            let (reason, locked_until) = reason(&refused);
            let (code, message) = match reason {
                "locked" => ("locked", "too many wrong codes: wait until locked_until"),
                "replayed" => (
                    "code_replayed",
                    "this code was used already: wait for the next one",
                ),
                "malformed" => (
                    "malformed_code",
                    "a code is 6 digits from the authenticator app",
                ),
                _ => (
                    "incorrect_code",
                    "the code is wrong: type the current one from the app",
                ),
            };
            let meta = refusal(reason, locked_until);
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_meta(meta))
        }
    }
}

async fn verify_totp(
    State(state): State<AppState>,
    UserId(id): UserId,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    let (outcome, _) = state.service.check_totp(&id, request.code, true).await?;
    Ok(Json(verdict(&outcome)).into_response())
}

/// One word for an outcome, the `reason` of a refused `verify_totp`:
/// `valid`, `used` (a backup code used before), `replayed`, `invalid`,
/// `locked` or `malformed`; and until when codes are refused (Unix
/// seconds), when locked.
#[must_use]
pub fn reason(outcome: &TotpOutcome) -> (&'static str, Option<u64>) {
    match outcome {
        TotpOutcome::Valid { .. } => ("valid", None),
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode,
        } => ("used", None),
        TotpOutcome::Replayed { .. } => ("replayed", None),
        TotpOutcome::Invalid { locked_until, .. } => ("invalid", *locked_until),
        TotpOutcome::Locked { until } => ("locked", Some(*until)),
        _ => ("malformed", None),
    }
}

/// `{"reason"}`, with `locked_until` in Unix milliseconds when known.
fn refusal(reason: &str, locked_until: Option<u64>) -> Value {
    let mut body = json!({ "reason": reason });
    if let Some(until) = locked_until {
        body["locked_until"] = json!(until.saturating_mul(1000));
    }
    body
}

/// Clerk's `verify_totp` answer for an outcome.
#[must_use]
pub fn verdict(outcome: &TotpOutcome) -> Value {
    if let TotpOutcome::Valid { code_type, .. } = outcome {
        return json!({ "verified": true, "code_type": code_type.as_str() });
    }
    let (reason, locked_until) = reason(outcome);
    let mut body = refusal(reason, locked_until);
    body["verified"] = json!(false);
    body["code_type"] = Value::Null;
    body
}

async fn create_backup_codes(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    let (codes, at) = state.service.regenerate_backup_codes(&id).await?;
    let at = at.saturating_mul(1000);
    Ok(Json(json!({
        "object": "backup_code",
        "id": format!("bcode_{}", uuid::Uuid::new_v4().simple()),
        "codes": codes.iter().collect::<Vec<_>>(),
        "created_at": at,
        "updated_at": at,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct AuthenticationRequest {
    customer_uuid: String,
    phone_number: String,
}

#[derive(Deserialize)]
struct CheckRequest {
    authentication_uuid: String,
    check_code: String,
    customer_uuid: String,
}

#[derive(Deserialize)]
struct RetryRequest {
    authentication_uuid: String,
    customer_uuid: String,
}

fn uuid_field<'a>(value: &'a str, field: &'static str) -> Result<&'a str, ApiError> {
    uuid::Uuid::parse_str(value).map(|_| value).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_uuid",
            format!("{field} must be a UUID"),
        )
    })
}

/// A phone number in E.164 form: `+`, then 7 to 15 digits.
fn phone_number(value: &str) -> Result<&str, ApiError> {
    let digits = value.strip_prefix('+').unwrap_or("");
    if (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(value)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_phone_number",
            "phone_number must be in E.164 form, e.g. +14155550100",
        ))
    }
}

fn rfc3339(seconds: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    humantime::format_rfc3339_seconds(time).to_string()
}

async fn create_authentication(
    State(state): State<AppState>,
    Body(request): Body<AuthenticationRequest>,
) -> Result<Response, ApiError> {
    let customer = uuid_field(&request.customer_uuid, "customer_uuid")?;
    let phone = phone_number(&request.phone_number)?;
    let created = state.service.create_authentication(customer, phone).await?;
    Ok(Json(json!({
        "authentication_uuid": created.uuid,
        "status": "pending",
        "created_at": rfc3339(created.created_at),
        "expires_at": rfc3339(created.expires_at),
    }))
    .into_response())
}

async fn check(
    State(state): State<AppState>,
    Body(request): Body<CheckRequest>,
) -> Result<Response, ApiError> {
    let uuid = uuid_field(&request.authentication_uuid, "authentication_uuid")?;
    let customer = uuid_field(&request.customer_uuid, "customer_uuid")?;
    let outcome = state
        .service
        .check(uuid, customer, request.check_code)
        .await?;
    let status = match outcome {
        CheckOutcome::Valid => "valid",
        CheckOutcome::Invalid { .. } => "invalid",
        CheckOutcome::AlreadyVerified => "already_validated",
        CheckOutcome::Locked => "rate_limited",
        CheckOutcome::Expired => "expired_auth",
        // Not a code of the right length: no attempt was counted.
        _ => "without_attempt",
    };
    Ok(Json(json!({ "authentication_uuid": uuid, "status": status })).into_response())
}

async fn retry(
    State(state): State<AppState>,
    Body(request): Body<RetryRequest>,
) -> Result<Response, ApiError> {
    let uuid = uuid_field(&request.authentication_uuid, "authentication_uuid")?;
    let customer = uuid_field(&request.customer_uuid, "customer_uuid")?;
    let (outcome, at) = state.service.retry(uuid, customer).await?;
    let (status, next_retry_at, remaining) = match outcome {
        RetryOutcome::Sent {
            remaining_retries,
            next_retry_at,
            ..
        } => ("approved", Some(next_retry_at), Some(remaining_retries)),
        RetryOutcome::CoolingDown {
            next_retry_at,
            remaining_retries,
        } => ("rate_limited", Some(next_retry_at), Some(remaining_retries)),
        RetryOutcome::NoRetriesLeft => ("no_attempt", None, Some(0)),
        RetryOutcome::Expired => ("expired_auth", None, None),
        RetryOutcome::Locked => ("denied", None, None),
        RetryOutcome::AlreadyVerified => ("already_validated", None, None),
    };
    Ok(Json(json!({
        "authentication_uuid": uuid,
        "status": status,
        "created_at": rfc3339(at),
        "next_retry_at": next_retry_at.map(rfc3339),
        "remaining_retry": remaining,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct OutboxQuery {
    phone_number: String,
}

async fn outbox(
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let messages = state.service.outbox(&query.phone_number).await?;
    Ok(Json(json!({ "messages": messages })).into_response())
}
