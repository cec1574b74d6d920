//! The JSON API: Clerk's TOTP endpoints and Ding's OTP endpoints, behind
//! one API key (Ding's SDKs send it as `x-api-key`, Clerk's as
//! `Authorization: Bearer`; either is accepted on every route). Each
//! handler checks its input, calls the service and shapes the answer in
//! its API's form; see the README for the table of routes. [`clerk`]
//! holds Clerk's handlers, [`ding`] Ding's; this module the keys, the
//! callers, the extractors and the router that puts them together.

pub mod clerk;
pub mod ding;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ding_shape};
use crate::service::Service;

/// The OpenAPI 3.1 document of every route but the `--dev` ones, served at
/// `GET /openapi.json`. The tests hold it to the server: every route it
/// lists answers, and schemathesis checks every answer against it.
pub const OPENAPI: &str = include_str!("../../api/openapi.json");

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

/// `value` as a lower-case hyphenated UUID, if it is one in any of the
/// forms the `uuid` crate reads.
fn canonical(value: &str) -> Option<String> {
    uuid::Uuid::parse_str(value)
        .ok()
        .map(|uuid| uuid.hyphenated().to_string())
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
    /// The key `/metrics` alone answers to, when one is configured (then
    /// the API key does not open it).
    pub metrics_key: Option<Arc<ApiKey>>,
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
    let mut clerk = clerk::routes();
    if dev {
        clerk = clerk.route("/dev/outbox", get(outbox));
    }
    let ding = ding::routes()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_ding_key,
        ))
        .layer(middleware::map_response(ding_shape));
    let metrics =
        Router::new()
            .route("/metrics", get(metrics))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                require_metrics_key,
            ));
    clerk
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_api_key,
        ))
        .merge(metrics)
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

/// `/metrics`: the metrics key when one is configured (a scraper then
/// holds no credential that changes anything), else the API key.
async fn require_metrics_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let key = state.metrics_key.as_deref().unwrap_or(&state.api_key);
    match presented_key(request.headers()) {
        Some(presented) if key.matches(presented) => next.run(request).await,
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

/// `GET /metrics`: the counters in Prometheus' text format (behind the
/// metrics key, or the API key: they tell an attacker how the limits
/// stand).
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.service.metrics().render(),
    )
        .into_response()
}

/// Times every request into the latency histogram (by route and status)
/// and logs one line for it: method, route (the router's template, never
/// the path as sent), status, duration, outcome (`ok` or the error's
/// code) and the user id masked. Probes (`/healthz`, `/readyz`,
/// `/metrics`) log at debug.
pub async fn timed(State(service): State<Service>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(none)".to_owned(), |path| path.as_str().to_owned());
    let user = request
        .uri()
        .path()
        .strip_prefix("/v1/users/")
        .and_then(|rest| rest.split('/').next())
        .map(crate::logs::masked_user);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    service.metrics().request(&route, status, elapsed);
    let outcome = response
        .extensions()
        .get::<crate::error::ErrorCode>()
        .map_or("ok", |code| code.0);
    let ms = format!("{:.2}", elapsed.as_secs_f64() * 1e3);
    let user = user.as_deref().unwrap_or("-");
    if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
        tracing::debug!(%method, %route, status, %ms, %outcome, %user, "request");
    } else {
        tracing::info!(%method, %route, status, %ms, %outcome, %user, "request");
    }
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
