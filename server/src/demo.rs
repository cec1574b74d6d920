//! `--dev` only: server-rendered pages that walk a person (or the browser
//! test) through enrollment, backup codes and sign-in. Plain HTML forms,
//! no JavaScript; every POST carries a CSRF token that must equal the
//! page's `SameSite=Strict` cookie (double submit).

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use otpkit::TotpOutcome;
use otpkit::qr::QrStyle;
use otpkit::record::CodeType;
use otpkit::record::Enrollment;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::service::Service;

const CSRF_COOKIE: &str = "otpkit_demo_csrf";

/// The demo pages under `/demo`.
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/demo", get(start))
        .route("/demo/enroll", axum::routing::post(enroll))
        .route("/demo/verify", axum::routing::post(verify))
        .route("/demo/sign-in", get(sign_in_form).post(sign_in))
        .layer(axum::middleware::map_response(crate::api::no_store))
        .with_state(service)
}

/// `--dev`'s guard against DNS rebinding: a page on another site whose
/// name was pointed at 127.0.0.1 reaches the server with that name in
/// `Host`. Only loopback names are answered (`localhost`, `*.localhost`,
/// `127.0.0.0/8`, `[::1]`, with any port); anything else, or no `Host`,
/// is 421.
pub async fn loopback_host_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    if host.is_some_and(is_loopback_host) {
        return next.run(request).await;
    }
    ApiError::new(
        StatusCode::MISDIRECTED_REQUEST,
        "not_a_loopback_host",
        "--dev answers only loopback host names (localhost, 127.0.0.1, [::1])",
    )
    .into_response()
}

/// Whether a `Host` header names this machine's loopback.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSRF token of the request's cookie, if any.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A page with the CSRF cookie set (a new token if the browser had none).
fn page(
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> String,
) -> Response {
    let existing = cookie_token(headers);
    let token = existing
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} · otpkit demo</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}\
         code,.key{{font-family:ui-monospace,monospace;font-size:1.2rem}}\
         input,button{{font-size:1.1rem;padding:.3rem}}\
         :focus{{outline:3px solid #1a73e8}}</style></head>\
         <body><main><h1>{title}</h1>{}</main></body></html>",
        body(&token)
    );
    let mut response = (status, Html(html)).into_response();
    if existing.is_none() {
        let cookie = format!("{CSRF_COOKIE}={token}; Path=/demo; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// Whether a request's `Origin`, when the browser sends one, is this
/// server's own (the scheme-less `Host` it was sent to): a cross-site POST
/// carries the other site's origin.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin, host), (Some(origin), Some(host)) if origin == host)
}

/// The refusal of a POST whose form token is not the cookie's (a token is
/// the 32 hex digits the page set; an empty one matches nothing), or that
/// comes from another origin.
fn csrf_refusal(headers: &HeaderMap, form_token: &str) -> Option<Response> {
    let well_formed =
        |token: &str| token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    match cookie_token(headers) {
        Some(cookie)
            if well_formed(&cookie)
                && bool::from(cookie.as_bytes().ct_eq(form_token.as_bytes()))
                && same_origin(headers) =>
        {
            None
        }
        _ => Some(page(headers, StatusCode::FORBIDDEN, "Form expired", |_| {
            "<p>This form did not come from this site, or its session ended. \
             <a href=\"/demo\">Start again</a>.</p>"
                .into()
        })),
    }
}

fn hidden(token: &str, user_id: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"user_id\" value=\"{}\">",
        escape(token),
        escape(user_id)
    )
}

fn code_form(action: &str, token: &str, user_id: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">{}\
         <label for=\"code\">{label}</label><br>\
         <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" autofocus required> \
         <button type=\"submit\">Submit</button></form>",
        hidden(token, user_id)
    )
}

fn error_page(headers: &HeaderMap, error: &ApiError) -> Response {
    page(headers, error.status, "Something went wrong", |_| {
        format!(
            "<p id=\"error\">{}</p><p><a href=\"/demo\">Start again</a></p>",
            escape(&error.message)
        )
    })
}

async fn start(headers: HeaderMap) -> Response {
    page(
        &headers,
        StatusCode::OK,
        "Set up two-factor authentication",
        |token| {
            format!(
                "<p>A demo of otpkit: enroll an authenticator app, keep your backup codes, sign in.</p>\
             <form method=\"post\" action=\"/demo/enroll\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"user_id\">User id</label><br>\
             <input id=\"user_id\" name=\"user_id\" value=\"demo-user\" autofocus required> \
             <button type=\"submit\">Enroll</button></form>",
                escape(token)
            )
        },
    )
}

#[derive(Deserialize)]
struct UserForm {
    csrf: String,
    user_id: String,
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    user_id: String,
    code: String,
}

fn grouped(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrollment(created: &Enrollment) -> (String, String, String) {
    let svg = created.qr().to_svg(&QrStyle::default().module_size(6));
    let uri = created.uri().to_zeroizing_string();
    (svg, uri.to_string(), grouped(&created.secret().to_base32()))
}

async fn enroll(
    State(service): State<Service>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&headers, &form.csrf) {
        return refused;
    }
    let user_id = form.user_id.trim();
    let created = match demo_user(user_id) {
        Ok(id) => service.create_totp(&id).await,
        Err(error) => Err(error),
    };
    let shown = created.map(|created| enrollment(&created));
    match shown {
        Ok((svg, uri, key)) => page(&headers, StatusCode::OK, "Scan the QR code", |token| {
            format!(
                "<p>Scan this code with your authenticator app:</p>\
                 <figure id=\"qr\" role=\"img\" aria-label=\"QR code of your new key\">{svg}</figure>\
                 <p>Can't scan? Type this key: <span class=\"key\" id=\"key\">{}</span>, \
                 or <a id=\"uri\" href=\"{}\">open it in an app on this device</a>.</p>{}",
                escape(&key),
                escape(&uri),
                code_form(
                    "/demo/verify",
                    token,
                    user_id,
                    "Then type the 6-digit code it shows"
                )
            )
        }),
        Err(error) => error_page(&headers, &error),
    }
}

/// The stored id of the demo's user `name`: `name (demo)`. The API's user
/// ids never hold a space or parentheses, so the demo pages (which need no
/// API key) can never reach a user of the API, nor the API a demo user;
/// authenticator apps show the account as `name (demo)`.
fn demo_user(name: &str) -> Result<String, ApiError> {
    crate::api::user_id(name).map(|name| format!("{name} (demo)"))
}

/// Checks a submitted code, CSRF token first: the outcome, or the page to
/// answer with instead (a refused form, a bad user id, an error). A
/// verified TOTP is expected for sign-in, an unverified one for enrollment.
async fn submitted_code(
    service: &Service,
    headers: &HeaderMap,
    client: crate::client::Peer,
    form: CodeForm,
    verified: bool,
) -> Result<TotpOutcome, Box<Response>> {
    if let Some(refused) = csrf_refusal(headers, &form.csrf) {
        return Err(Box::new(refused));
    }
    let outcome = match demo_user(&form.user_id) {
        Ok(id) => service
            .check_totp(&id, form.code, verified, Some(&client.0))
            .await
            .map(|(outcome, _)| outcome),
        Err(error) => Err(error),
    };
    outcome.map_err(|error| Box::new(error_page(headers, &error)))
}

async fn verify(
    State(service): State<Service>,
    headers: HeaderMap,
    client: crate::client::Peer,
    Form(form): Form<CodeForm>,
) -> Response {
    let user_id = form.user_id.clone();
    let outcome = match submitted_code(&service, &headers, client, form, false).await {
        Ok(outcome) => outcome,
        Err(page) => return *page,
    };
    match outcome {
        TotpOutcome::Valid { backup_codes, .. } => {
            page(&headers, StatusCode::OK, "Save your backup codes", |_| {
                let codes: String = backup_codes
                    .iter()
                    .map(|code| {
                        format!(
                            "<li><code class=\"backup-code\">{}</code></li>",
                            escape(code)
                        )
                    })
                    .collect();
                format!(
                    "<p id=\"result\" data-outcome=\"verified\">Two-factor authentication is on.</p>\
                 <p>Each backup code signs you in once if you lose your phone. \
                 They are shown only now: write them down.</p><ol id=\"backup-codes\">{codes}</ol>\
                 <p><a id=\"sign-in\" href=\"/demo/sign-in?user_id={}\">Continue to sign in</a></p>",
                    escape(&user_id)
                )
            })
        }
        refused => page(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Try again",
            |token| {
                format!(
                    "<p id=\"result\" data-outcome=\"{0}\">That code was not accepted ({0}).</p>{1}",
                    crate::api::clerk::reason(&refused).0,
                    code_form(
                        "/demo/verify",
                        token,
                        &user_id,
                        "Type the current 6-digit code"
                    )
                )
            },
        ),
    }
}

#[derive(Deserialize)]
struct SignInQuery {
    user_id: String,
}

async fn sign_in_form(
    headers: HeaderMap,
    query: Result<Query<SignInQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "which user? Sign in from the link after enrolling",
        );
        return error_page(&headers, &error);
    };
    page(&headers, StatusCode::OK, "Sign in", |token| {
        code_form(
            "/demo/sign-in",
            token,
            &query.user_id,
            "Code from your app, or a backup code",
        )
    })
}

async fn sign_in(
    State(service): State<Service>,
    headers: HeaderMap,
    client: crate::client::Peer,
    Form(form): Form<CodeForm>,
) -> Response {
    let user_id = form.user_id.clone();
    let outcome = match submitted_code(&service, &headers, client, form, true).await {
        Ok(outcome) => outcome,
        Err(page) => return *page,
    };
    let message = match &outcome {
        TotpOutcome::Valid {
            code_type: CodeType::BackupCode,
            ..
        } => "Valid: signed in with a backup code (now used up).".to_owned(),
        TotpOutcome::Valid { .. } => "Valid: signed in.".to_owned(),
        TotpOutcome::Replayed {
            code_type: CodeType::BackupCode,
        } => "Refused: this backup code was used already.".to_owned(),
        TotpOutcome::Replayed { .. } => {
            "Refused: this code was used already (a replay). Wait for the next one.".to_owned()
        }
        TotpOutcome::Locked { until, .. }
        | TotpOutcome::Invalid {
            locked_until: Some(until),
            ..
        } => {
            format!(
                "Refused: too many wrong codes; locked for {} s.",
                until.saturating_sub(crate::clock::now())
            )
        }
        TotpOutcome::Invalid { .. } => "Refused: wrong code.".to_owned(),
        _ => "Refused: that is not a code (typo?). Nothing was counted.".to_owned(),
    };
    let status = if outcome.is_valid() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(&headers, status, "Sign in", |token| {
        format!(
            "<p id=\"result\" data-outcome=\"{}\" role=\"status\">{}</p>{}",
            crate::api::clerk::reason(&outcome).0,
            escape(&message),
            code_form("/demo/sign-in", token, &user_id, "Another code")
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_hosts_only() {
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "demo.localhost:1",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1:8080",
            "[2001:db8::1]:80",
            "",
        ] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}
