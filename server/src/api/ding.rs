//! Ding's OTP routes: send, check, retry, status and feedback, answered in
//! Ding's shapes (no `null` anywhere; errors flat, with Ding's codes).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use otpkit::challenge::{CheckOutcome, RetryOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authentication::{Event, check_status};
use crate::client::{Client, EndUser};
use crate::error::ApiError;
use crate::service::ding::{Created, Limited, no_such_authentication};

use super::{AppState, Body, Caller, canonical};

/// Ding's routes (the caller, a key and its customers, is checked by the
/// router).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/authentication", post(create_authentication))
        .route("/v1/authentication/feedback", post(feedback))
        .route("/v1/authentication/{auth_uuid}", get(authentication_status))
        .route("/v1/check", post(check))
        .route("/v1/retry", post(retry))
}

#[derive(Deserialize)]
struct AuthenticationRequest {
    customer_uuid: String,
    phone_number: String,
    /// The end user's address, as Ding's SDKs send it: the per-address
    /// send quota counts it (else the end user `X-Forwarded-For` names).
    #[serde(default)]
    ip: Option<String>,
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

#[derive(Deserialize)]
struct FeedbackRequest {
    customer_uuid: String,
    phone_number: String,
    status: String,
}

/// A customer UUID in its canonical form (lower-case, hyphenated), so
/// `ABC…`, `{abc…}` and `urn:uuid:abc…` name the same customer; 400
/// `bad_request` for anything else.
fn customer_uuid(value: &str) -> Result<String, ApiError> {
    canonical(value).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "customer_uuid must be a UUID",
        )
    })
}

/// An authentication UUID in its canonical form (400 `invalid_auth_uuid`
/// otherwise).
fn authentication_uuid(value: &str) -> Result<String, ApiError> {
    canonical(value).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_auth_uuid",
            "authentication_uuid must be the UUID the authentication was created with",
        )
    })
}

/// 403 for a tenant's call for a customer not its own.
fn not_your_customer() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_customer",
        "this API key does not act for this customer_uuid",
    )
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
    Extension(caller): Extension<Caller>,
    end_user: EndUser,
    Body(request): Body<AuthenticationRequest>,
) -> Result<Response, ApiError> {
    let customer = caller.acting_for(customer_uuid(&request.customer_uuid)?, not_your_customer)?;
    let phone = phone_number(&request.phone_number)?;
    let client = match request.ip.as_deref() {
        Some(ip) => Some(Client::at(crate::client::address(ip).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "ip is not an IP address (192.0.2.1, 2001:db8::1)",
            )
        })?)),
        None => end_user.client().cloned(),
    };
    let created = state
        .service
        .create_authentication(&customer, phone, client.as_ref())
        .await?;
    // Refused by a quota: nothing was sent and there is no authentication
    // to check, so only the status and the time (Ding's SDKs declare every
    // field optional).
    let body = match created {
        Created::Pending(created) => json!({
            "authentication_uuid": created.uuid,
            "status": "pending",
            "created_at": rfc3339(created.created_at),
            "expires_at": rfc3339(created.expires_at),
        }),
        Created::RateLimited { created_at } => {
            json!({ "status": "rate_limited", "created_at": rfc3339(created_at) })
        }
        Created::SpamDetected { created_at } => {
            json!({ "status": "spam_detected", "created_at": rfc3339(created_at) })
        }
    };
    Ok(Json(body).into_response())
}

/// Ding's check. A code that is not one (wrong length, not digits) is a
/// 400 `bad_request`, not a status: no attempt is counted for it.
async fn check(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(request): Body<CheckRequest>,
) -> Result<Response, ApiError> {
    let uuid = authentication_uuid(&request.authentication_uuid)?;
    let customer = caller.acting_for(
        customer_uuid(&request.customer_uuid)?,
        no_such_authentication,
    )?;
    let outcome = state
        .service
        .check(&uuid, &customer, request.check_code)
        .await?;
    let status = match outcome {
        Limited::Done(CheckOutcome::Malformed(typo)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("check_code: {typo}; no attempt was counted"),
            ));
        }
        Limited::Done(outcome) => check_status(&outcome),
        // The phone number's cap on checks: nothing was checked.
        Limited::Refused => "rate_limited",
    };
    Ok(Json(json!({ "authentication_uuid": uuid, "status": status })).into_response())
}

/// Ding's retry. Fields with no value are left out (Ding's SDKs declare
/// them optional, not nullable).
async fn retry(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(request): Body<RetryRequest>,
) -> Result<Response, ApiError> {
    let uuid = authentication_uuid(&request.authentication_uuid)?;
    let customer = caller.acting_for(
        customer_uuid(&request.customer_uuid)?,
        no_such_authentication,
    )?;
    let (outcome, at) = state.service.retry(&uuid, &customer).await?;
    let (status, next_retry_at, remaining) = match outcome {
        // A send quota is used up: no code was sent.
        Limited::Refused => ("rate_limited", None, None),
        Limited::Done(outcome) => retry_status(outcome),
    };
    let mut body = json!({
        "authentication_uuid": uuid,
        "status": status,
        "created_at": rfc3339(at),
    });
    if let Some(at) = next_retry_at {
        body["next_retry_at"] = json!(rfc3339(at));
    }
    if let Some(remaining) = remaining {
        body["remaining_retry"] = json!(remaining);
    }
    Ok(Json(body).into_response())
}

/// A retry's status, next retry time and retries left.
fn retry_status(outcome: RetryOutcome) -> (&'static str, Option<u64>, Option<u32>) {
    match outcome {
        RetryOutcome::Sent {
            remaining_retries,
            next_retry_at,
            ..
        } => ("approved", Some(next_retry_at), Some(remaining_retries)),
        RetryOutcome::CoolingDown {
            next_retry_at,
            remaining_retries,
        } => ("rate_limited", Some(next_retry_at), Some(remaining_retries)),
        RetryOutcome::NoRetriesLeft => ("denied", None, Some(0)),
        RetryOutcome::Expired => ("expired_auth", None, None),
        RetryOutcome::Locked => ("denied", None, None),
        RetryOutcome::AlreadyVerified => ("already_validated", None, None),
    }
}

/// Ding's status: the phone number, when it was created, and its events
/// (each code sent, each check that counted). The checked code itself is
/// never repeated.
async fn authentication_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = authentication_uuid(&uuid)?;
    let (customer, phone, authentication) = state.service.authentication(&uuid).await?;
    caller.acting_for(customer, no_such_authentication)?;
    let events: Vec<Value> = authentication
        .events
        .iter()
        .map(|event| match event {
            Event::Attempt {
                id,
                attempt_number,
                created_at,
            } => json!({
                "type": "attempt",
                "id": id,
                "attempt_number": attempt_number,
                "capability": "text",
                "created_at": rfc3339(*created_at),
            }),
            Event::Check {
                id,
                status,
                created_at,
            } => json!({
                "type": "check",
                "id": id,
                "status": status,
                "created_at": rfc3339(*created_at),
            }),
        })
        .collect();
    Ok(Json(json!({
        "uuid": uuid,
        "phone_number": phone,
        "created_at": rfc3339(authentication.challenge.created_at()),
        "events": events,
    }))
    .into_response())
}

/// Ding's feedback: whether the user behind a number finished onboarding.
async fn feedback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(request): Body<FeedbackRequest>,
) -> Result<Response, ApiError> {
    let customer = caller.acting_for(customer_uuid(&request.customer_uuid)?, not_your_customer)?;
    let phone = phone_number(&request.phone_number)?;
    if !matches!(request.status.as_str(), "onboarded" | "not_onboarded") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_feedback_status",
            "status must be onboarded or not_onboarded",
        ));
    }
    let uuid = state
        .service
        .feedback(&customer, phone, &request.status)
        .await?;
    Ok(Json(json!({ "uuid": uuid })).into_response())
}
