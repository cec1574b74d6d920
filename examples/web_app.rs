//! A minimal web app with two-factor sign-in, as a Rust web developer would
//! write it from the README: axum, one form, a QR page. Enroll a user by QR
//! code, verify the first code (which shows the backup codes, once), then
//! sign in by code or backup code. The table is a `HashMap` of (version,
//! sealed row) with a compare-and-set on the version, as a database's
//! `UPDATE … WHERE version = :loaded` gives.
//!
//! This is the second factor only: a real app runs it after the password
//! check, for the user that check named (here the form names the user, and
//! its messages say which users are enrolled).
//!
//! Run it with `cargo run --example web_app` and open the address it prints;
//! `cargo test --example web_app` drives it over HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::response::Html;
use axum::routing::{get, post};
use otpkit::seal::SealingKey;
use otpkit::{Keyring, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord};
use serde::Deserialize;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The app's state: its two secrets and the table of enrollments.
#[derive(Clone)]
struct App {
    keyring: Arc<Keyring>,
    pepper: Arc<Pepper>,
    /// user → (version, the record sealed, as JSON).
    table: Arc<Mutex<HashMap<String, (u64, String)>>>,
}

#[derive(Deserialize)]
struct Enroll {
    user: String,
}

#[derive(Deserialize)]
struct Check {
    user: String,
    code: String,
}

fn router(app: App) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/enroll", post(enroll))
        .route("/verify", post(verify))
        .with_state(app)
}

async fn home() -> Html<String> {
    page(
        "Two-factor demo",
        "<form method=post action=/enroll><input name=user placeholder=\"your name\"> \
         <button>Enroll</button></form>",
    )
}

/// Enroll: a fresh secret, stored sealed; the QR code and the secret shown once.
async fn enroll(State(app): State<App>, Form(form): Form<Enroll>) -> Html<String> {
    match try_enroll(&app, &form.user) {
        Ok(body) => page("Scan the QR code", &body),
        Err(e) => page("Not enrolled", &escape(&e.to_string())),
    }
}

fn try_enroll(app: &App, user: &str) -> Result<String, Failure> {
    let (record, enrollment) = TotpRecord::create_now("Demo", user, &Default::default())?;
    let row = record.seal(&app.keyring)?.to_json();
    let mut table = app.table.lock().map_err(|_| "the table is poisoned")?;
    let version = match table.get(user) {
        Some((_, existing))
            if StoredTotpRecord::from_json(existing)?
                .open(&app.keyring)?
                .is_verified() =>
        {
            return Err("this user is enrolled already".into());
        }
        // Enrolling again while unverified: the new record replaces the
        // old one at a higher version, so a check still running on the old
        // record loses its compare-and-set.
        Some((version, _)) => version + 1,
        None => 1,
    };
    table.insert(user.to_owned(), (version, row));
    Ok(format!(
        "{qr}<p>Or type this key: <code id=secret>{secret}</code></p>{form}",
        qr = enrollment.qr().to_svg(&Default::default()),
        secret = enrollment.secret().to_base32().as_str(),
        form = code_form(user),
    ))
}

/// One check, first code or sign-in: load, verify, compare-and-set; on a
/// lost race, again on the fresh record.
async fn verify(State(app): State<App>, Form(form): Form<Check>) -> Html<String> {
    let answer = match check(&app, &form.user, &form.code) {
        Ok(TotpOutcome::Valid { backup_codes, .. }) if !backup_codes.is_empty() => {
            let list: String = backup_codes
                .iter()
                .map(|code| format!("<li><code>{code}</code></li>"))
                .collect();
            format!("<p>Verified. Your backup codes, shown once:</p><ul>{list}</ul>")
        }
        Ok(TotpOutcome::Valid { .. }) => "<p>Signed in.</p>".to_owned(),
        Ok(TotpOutcome::Replayed { .. }) => "<p>That code was already used.</p>".to_owned(),
        Ok(TotpOutcome::Locked { until, .. }) => {
            format!("<p>Too many wrong codes: wait until {until}.</p>")
        }
        Ok(TotpOutcome::Malformed(typo)) => format!("<p>{}</p>", escape(&typo.to_string())),
        Ok(_) => "<p>Wrong code.</p>".to_owned(),
        Err(e) => format!("<p>{}</p>", escape(&e.to_string())),
    };
    page("Sign in", &format!("{answer}{}", code_form(&form.user)))
}

fn check(app: &App, user: &str, code: &str) -> Result<TotpOutcome, Failure> {
    loop {
        let (version, row) = {
            let table = app.table.lock().map_err(|_| "the table is poisoned")?;
            table
                .get(user)
                .cloned()
                .ok_or("no such user: enroll first")?
        };
        let record = StoredTotpRecord::from_json(&row)?.open(&app.keyring)?;
        // The slow part (a backup code's hash) runs outside the lock.
        let (next, outcome) = record.verify_now(code, &app.pepper)?;
        if next == record {
            return Ok(outcome);
        }
        let saved = next.seal(&app.keyring)?.to_json();
        let mut table = app.table.lock().map_err(|_| "the table is poisoned")?;
        match table.get_mut(user) {
            Some(entry) if entry.0 == version => {
                *entry = (version + 1, saved);
                return Ok(outcome);
            }
            _ => continue, // someone saved first: check again on their record
        }
    }
}

fn code_form(user: &str) -> String {
    format!(
        "<form method=post action=/verify><input type=hidden name=user value=\"{}\">\
         <input name=code autocomplete=one-time-code placeholder=\"code or backup code\"> \
         <button>Check</button></form>",
        escape(user)
    )
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1>{body}"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The app with its secrets: from the environment, as in production
/// (`otpkit key new` prints a sealing key), or fresh ones for the demo.
fn app_from_env() -> Result<App, Failure> {
    let keyring: Keyring = match std::env::var("OTPKIT_SEALING_KEYS") {
        Ok(text) => text.parse()?,
        Err(_) => Keyring::new(SealingKey::generate()),
    };
    let pepper = match std::env::var("OTPKIT_PEPPER") {
        Ok(text) => Pepper::new(text.as_bytes())?,
        Err(_) => Pepper::new(SealingKey::generate().to_text().as_bytes())?,
    };
    Ok(App {
        keyring: Arc::new(keyring),
        pepper: Arc::new(pepper),
        table: Arc::default(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("open http://{}/", listener.local_addr()?);
    axum::serve(listener, router(app_from_env()?)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use otpkit::{Secret, Totp};

    /// The app on a loopback port, and a client posting its forms.
    async fn start() -> (String, reqwest::Client) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = router(app_from_env().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, reqwest::Client::new())
    }

    async fn post(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> String {
        let response = client.post(url).form(form).send().await.unwrap();
        assert!(response.status().is_success());
        response.text().await.unwrap()
    }

    /// Every `<code>…</code>` of a page, in order.
    fn codes(page: &str) -> Vec<String> {
        page.split("<code")
            .skip(1)
            .filter_map(|rest| Some(rest.split_once('>')?.1.split_once("</code>")?.0.to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn enroll_verify_and_sign_in_over_http() {
        let (base, client) = start().await;
        assert!(
            client
                .get(&base)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .contains("Enroll")
        );

        let enrolled = post(&client, format!("{base}/enroll"), &[("user", "alice <3")]).await;
        assert!(enrolled.contains("<svg") && enrolled.contains("alice &lt;3"));
        let secret = Secret::from_base32(&codes(&enrolled)[0]).unwrap();
        let phone = Totp::new(secret); // the user's authenticator app
        let code = phone.generate_now().unwrap().to_string();
        let verify = |code: String| {
            let (client, url) = (client.clone(), format!("{base}/verify"));
            async move { post(&client, url, &[("user", "alice <3"), ("code", &code)]).await }
        };
        let wrong = if code == "000000" { "111111" } else { "000000" };

        assert!(verify(wrong.to_owned()).await.contains("Wrong code."));
        let first = verify(code.clone()).await;
        let backup = codes(&first);
        assert!(first.contains("backup codes, shown once"), "{first}");
        assert_eq!(backup.len(), 10);
        assert!(verify(code).await.contains("already used"));
        assert!(verify(backup[0].clone()).await.contains("Signed in."));
        assert!(verify(backup[0].clone()).await.contains("already used"));
        assert!(verify("12 34".to_owned()).await.contains("digits"));
        // Enrolled users cannot be enrolled over.
        let again = post(&client, format!("{base}/enroll"), &[("user", "alice <3")]).await;
        assert!(again.contains("enrolled already"));
        // Names no authenticator app can show are refused, with why.
        let bad = post(&client, format!("{base}/enroll"), &[("user", "")]).await;
        assert!(bad.contains("invalid account: is empty"), "{bad}");
    }
}
