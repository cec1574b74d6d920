//! Clerk's TOTP routes: enrollment, verification, backup codes and the
//! deletions, answered in Clerk's shapes (its `TOTP` object, its error
//! list).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use otpkit::TotpOutcome;
use otpkit::record::CodeType;
use serde::Deserialize;
use serde_json::json;

use crate::clock::now;
use crate::error::ApiError;

use super::{AppState, Body, UserId};
use crate::client::EndUser;

/// Clerk's routes (the API key is checked by the router).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
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
        .route(
            "/v1/users/{user_id}/backup_code",
            axum::routing::delete(delete_backup_codes),
        )
        .route(
            "/v1/users/{user_id}/mfa",
            axum::routing::delete(disable_mfa),
        )
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
    Ok(Json(created.resource()).into_response())
}

async fn get_totp(State(state): State<AppState>, UserId(id): UserId) -> Result<Response, ApiError> {
    Ok(Json(state.service.totp(&id).await?).into_response())
}

async fn delete_totp(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    state.service.delete_totp(&id).await?;
    Ok(Json(json!({ "user_id": id })).into_response())
}

async fn delete_backup_codes(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    state.service.delete_backup_codes(&id).await?;
    Ok(Json(json!({ "user_id": id })).into_response())
}

async fn disable_mfa(
    State(state): State<AppState>,
    UserId(id): UserId,
) -> Result<Response, ApiError> {
    state.service.disable_mfa(&id).await?;
    Ok(Json(json!({ "user_id": id })).into_response())
}

/// The enrollment's first code (Clerk's frontend
/// `attemptTOTPVerification`): the TOTP view, with its backup codes once;
/// a refused code is a Clerk error.
async fn attempt_verification(
    State(state): State<AppState>,
    UserId(id): UserId,
    end_user: EndUser,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    let (outcome, resource) = state
        .service
        .check_totp(&id, request.code, false, end_user.client())
        .await?;
    match (outcome, resource) {
        (TotpOutcome::Valid { backup_codes, .. }, Some(resource)) => {
            Ok(Json(resource.with_backup_codes(backup_codes)).into_response())
        }
        // Every refusal; `Valid` always comes with its view.
        (refused, _) => Err(refusal(&refused)),
    }
}

/// Clerk's backend `verifyTOTP`: 200 `{"verified": true, "code_type"}`
/// only for a right code; every other answer is a Clerk error, so an
/// application that lets the user in when the call returns is right.
async fn verify_totp(
    State(state): State<AppState>,
    UserId(id): UserId,
    end_user: EndUser,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    match state
        .service
        .check_totp(&id, request.code, true, end_user.client())
        .await?
        .0
    {
        TotpOutcome::Valid { code_type, .. } => {
            Ok(Json(json!({ "verified": true, "code_type": code_type.as_str() })).into_response())
        }
        refused => Err(refusal(&refused)),
    }
}

/// One word for an outcome, the `meta.reason` of a refused code: `valid`,
/// `used` (a backup code used before), `replayed`, `invalid`, `locked` or
/// `malformed`; and until when codes are refused (Unix seconds), when
/// locked.
#[must_use]
pub fn reason(outcome: &TotpOutcome) -> (&'static str, Option<u64>) {
    match outcome {
        TotpOutcome::Valid { .. } => ("valid", None),
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode,
        } => ("used", None),
        TotpOutcome::Replayed { .. } => ("replayed", None),
        TotpOutcome::Invalid { locked_until, .. } => ("invalid", *locked_until),
        TotpOutcome::Locked { until, .. } => ("locked", Some(*until)),
        _ => ("malformed", None),
    }
}

/// The Clerk error for a refused code. A wrong, replayed or used code is
/// 422 `form_code_incorrect` (Clerk's code for a wrong verification code;
/// `meta.reason` tells which); a typo is 422 `form_param_format_invalid`;
/// a locked user is 403 `user_locked` with
/// `meta.lockout_expires_in_seconds`, as Clerk's sign-in answers.
fn refusal(outcome: &TotpOutcome) -> ApiError {
    let (reason, locked_until) = reason(outcome);
    let mut meta = json!({ "reason": reason, "param_name": "code" });
    let incorrect = |long: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_code_incorrect",
            "Incorrect code",
        )
        .with_long_message(long)
    };
    let error = match reason {
        "locked" => {
            let left = locked_until.map_or(0, |until| until.saturating_sub(now()));
            meta["lockout_expires_in_seconds"] = json!(left);
            let long = format!(
                "too many wrong codes: this user's codes are refused for {left} more seconds"
            );
            ApiError::new(StatusCode::FORBIDDEN, "user_locked", "Account locked")
                .with_long_message(long)
                .with_retry_after(left.max(1))
        }
        "malformed" => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid",
            "Invalid code",
        )
        .with_long_message("a code is the 6 digits from the authenticator app, or a backup code"),
        "replayed" => incorrect("this code was used already: wait for the next one in the app"),
        "used" => incorrect("this backup code was used already: each works once"),
        _ => incorrect("the code is wrong: type the current one from the app"),
    };
    if let Some(until) = locked_until.filter(|_| reason == "invalid") {
        meta["locked_until"] = json!(until.saturating_mul(1000));
    }
    error.with_meta(meta)
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
