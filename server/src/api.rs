//! The JSON API: Clerk's TOTP endpoints and Ding's OTP endpoints, behind
//! one API key (Ding's SDKs send it as `x-api-key`, Clerk's as
//! `Authorization: Bearer`; either is accepted on every route). Each
//! handler checks its input, calls the service and shapes the answer in
//! its API's form; see the README for the table of routes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use otpkit::TotpOutcome;
use otpkit::challenge::{CheckOutcome, RetryOutcome};
use otpkit::record::CodeType;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::authentication::{Event, check_status};
use crate::clock::now;
use crate::error::{ApiError, ding_shape};
use crate::service::Service;
use crate::service::ding::{Created, Limited, no_such_authentication};

/// The OpenAPI 3.1 document of every route but the `--dev` ones, served at
/// `GET /openapi.json`. The tests hold it to the server: every route it
/// lists answers, and schemathesis checks every answer against it.
pub const OPENAPI: &str = include_str!("../api/openapi.json");

/// Requests larger than this are refused with 413 before parsing.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The key every `/v1` call presents. Only its SHA-256 is kept, so the
/// comparison takes the same time whatever the length of what is
/// presented.
pub struct ApiKey([u8; 32]);

impl ApiKey {
    /// The key `key`.
    ///
    /// # Errors
    /// A key shorter than 16 characters (too easy to guess).
    pub fn new(key: &str) -> Result<Self, String> {
        if key.len() < 16 {
            return Err("the API key must be at least 16 characters".into());
        }
        Ok(Self(Sha256::digest(key.as_bytes()).into()))
    }

    /// Whether `presented` is the key, compared in constant time (digest
    /// against digest: neither length nor content shows in the timing).
    fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.0.ct_eq(&presented).into()
    }
}

/// Ding tenants: API keys that act for some customers only, configured
/// as `KEY=UUID[,UUID…]` entries separated by `;` (or new lines). Only
/// each key's SHA-256 is kept.
#[derive(Default)]
pub struct DingKeys(Vec<([u8; 32], Arc<[String]>)>);

impl DingKeys {
    /// The tenants `text` lists (empty text: none).
    ///
    /// # Errors
    /// An entry without `=`, a key shorter than 16 characters, a customer
    /// that is not a UUID, or a key listed twice; the message names the
    /// entry by its position, never the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys: Vec<([u8; 32], Arc<[String]>)> = Vec::new();
        let entries = text
            .split([';', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty());
        for (n, entry) in entries.enumerate() {
            let n = n + 1;
            let (key, customers) = entry
                .split_once('=')
                .ok_or_else(|| format!("entry {n}: expected KEY=CUSTOMER_UUID[,…]"))?;
            let key = ApiKey::new(key.trim()).map_err(|e| format!("entry {n}: {e}"))?;
            let customers: Vec<String> = customers
                .split(',')
                .map(|c| {
                    canonical(c.trim()).ok_or_else(|| format!("entry {n}: {c:?} is not a UUID"))
                })
                .collect::<Result<_, _>>()?;
            if keys.iter().any(|(digest, _)| *digest == key.0) {
                return Err(format!("entry {n}: this key is listed already"));
            }
            keys.push((key.0, customers.into()));
        }
        Ok(Self(keys))
    }

    /// The customers of the tenant whose key `presented` is: every key is
    /// compared, in constant time each.
    fn customers(&self, presented: &str) -> Option<Arc<[String]>> {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (digest, customers) in &self.0 {
            if bool::from(digest.ct_eq(&presented)) {
                found = Some(Arc::clone(customers));
            }
        }
        found
    }
}

/// Who calls a Ding route: the operator (the main API key: every
/// customer) or a tenant (its own customers only).
#[derive(Debug, Clone)]
pub enum Caller {
    /// The main API key.
    Operator,
    /// A tenant's key and the customers it may act for.
    Tenant(Arc<[String]>),
}

impl Caller {
    /// Whether this caller may act for `customer` (canonical UUID).
    #[must_use]
    pub fn may_act_for(&self, customer: &str) -> bool {
        match self {
            Self::Operator => true,
            Self::Tenant(customers) => customers.iter().any(|c| c == customer),
        }
    }

    /// `customer`, if this caller may act for it; else `refused`.
    fn acting_for(&self, customer: String, refused: fn() -> ApiError) -> Result<String, ApiError> {
        if self.may_act_for(&customer) {
            Ok(customer)
        } else {
            Err(refused())
        }
    }
}

/// 403 for a tenant's call for a customer not its own.
fn not_your_customer() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_customer",
        "this API key does not act for this customer_uuid",
    )
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The service.
    pub service: Service,
    /// The API key.
    pub api_key: Arc<ApiKey>,
    /// Ding tenants' keys.
    pub ding_keys: Arc<DingKeys>,
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

/// The `/v1` routes (Clerk's, then Ding's, each answering errors in its
/// API's shape), and `/dev/outbox` when `dev`.
pub fn router(state: AppState, dev: bool) -> Router {
    let auth = middleware::from_fn_with_state(state.clone(), require_api_key);
    let mut clerk = Router::new()
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
        );
    if dev {
        clerk = clerk.route("/dev/outbox", get(outbox));
    }
    clerk = clerk.route("/metrics", get(metrics));
    let ding = Router::new()
        .route("/v1/authentication", post(create_authentication))
        .route("/v1/authentication/feedback", post(feedback))
        .route("/v1/authentication/{auth_uuid}", get(authentication_status))
        .route("/v1/check", post(check))
        .route("/v1/retry", post(retry))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_ding_key,
        ))
        .layer(middleware::map_response(ding_shape));
    clerk
        .route_layer(auth)
        .merge(ding)
        .layer(middleware::map_response(no_store))
        .with_state(state)
}

/// `Cache-Control: no-store` on every answer of the API and the demo: some
/// carry a secret, an otpauth:// URI or backup codes, and none may be kept
/// by a browser or a proxy.
pub async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The key from `x-api-key` (Ding's SDKs) or `Authorization: Bearer`
/// (Clerk's; the scheme in any case, as RFC 9110 §11.1 has it).
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &header::HeaderValue| value.to_str().ok())
    };
    text(header::HeaderName::from_static("x-api-key")).or_else(|| {
        let (scheme, key) = text(header::AUTHORIZATION)?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(key.trim())
    })
}

async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match presented_key(request.headers()) {
        Some(key) if state.api_key.matches(key) => next.run(request).await,
        _ => unauthorized(),
    }
}

/// Ding's routes: the main key (every customer) or a tenant's (its own
/// customers), named to the handlers as a [`Caller`].
async fn require_ding_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match presented_key(request.headers()) {
        Some(key) if state.api_key.matches(key) => Caller::Operator,
        Some(key) => match state.ding_keys.customers(key) {
            Some(customers) => Caller::Tenant(customers),
            None => return unauthorized(),
        },
        None => return unauthorized(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a valid API key is required (x-api-key, or Authorization: Bearer)",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// The reverse proxy whose `X-Forwarded-For` is believed, if any: a
/// request extension the app's router adds.
#[derive(Debug, Clone, Copy)]
pub struct TrustedProxy(pub Option<IpAddr>);

/// The client a request comes from, as the per-client limits count it: the
/// peer address, or, when the peer is the [`TrustedProxy`], the last
/// address its `X-Forwarded-For` names (the one it saw). An IPv6 address
/// counts as its /64, the block one subscriber usually holds. Without
/// connection info (the router used in-process) every request is
/// `0.0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let trusted = parts.extensions.get::<TrustedProxy>().and_then(|t| t.0);
        let client = match forwarded_for(&parts.headers) {
            Some(forwarded) if trusted == Some(peer) => forwarded,
            _ => peer,
        };
        Ok(Self(per_subscriber(client)))
    }
}

/// The last address of the last `X-Forwarded-For` header.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

/// An IPv4 address as is; an IPv6 address cut to its /64.
fn per_subscriber(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// `GET /metrics`: the counters in Prometheus' text format (behind the
/// API key: they tell an attacker how the limits stand).
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.service.metrics().render(),
    )
        .into_response()
}

/// Times every request into the latency histogram.
pub async fn timed(State(service): State<Service>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    service.metrics().request(started.elapsed());
    response
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
    ClientIp(client): ClientIp,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    let (outcome, resource) = state
        .service
        .check_totp(&id, request.code, false, client)
        .await?;
    match (outcome, resource) {
        (TotpOutcome::Valid { backup_codes, .. }, Some(resource)) => {
            let shown = match backup_codes {
                Some(codes) => resource.with_backup_codes(codes),
                None => resource,
            };
            Ok(Json(shown).into_response())
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
    ClientIp(client): ClientIp,
    Body(request): Body<CodeRequest>,
) -> Result<Response, ApiError> {
    match state
        .service
        .check_totp(&id, request.code, true, client)
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

/// `value` as a lower-case hyphenated UUID, if it is one in any of the
/// forms the `uuid` crate reads.
fn canonical(value: &str) -> Option<String> {
    uuid::Uuid::parse_str(value)
        .ok()
        .map(|uuid| uuid.hyphenated().to_string())
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
    Body(request): Body<AuthenticationRequest>,
) -> Result<Response, ApiError> {
    let customer = caller.acting_for(customer_uuid(&request.customer_uuid)?, not_your_customer)?;
    let phone = phone_number(&request.phone_number)?;
    let created = state
        .service
        .create_authentication(&customer, phone)
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

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn the_api_key_matches_itself_only() {
        let key = ApiKey::new("test-api-key-0123456789abcdef").unwrap();
        assert!(key.matches("test-api-key-0123456789abcdef"));
        for other in [
            "",
            "test-api-key-0123456789abcde",
            "test-api-key-0123456789abcdef0",
            "TEST-API-KEY-0123456789ABCDEF",
            " test-api-key-0123456789abcdef",
        ] {
            assert!(!key.matches(other), "{other:?}");
        }
        // Only the digest is kept: nothing of the key's text or length.
        assert_eq!(std::mem::size_of::<ApiKey>(), 32);
        assert!(ApiKey::new("short").is_err());
    }
}
