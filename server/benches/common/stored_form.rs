//! The stored form a build of the server reads, for the benches that seed
//! records straight into its database: this build's, or otpkit 0.1's for a
//! baseline from before records were bound to their whole state. Both
//! benches include this module (`#[path]`).

use otpkit::record::EnrollmentOptions;
use otpkit::{Keyring, Secret, TotpRecord};

use crate::support::{API_KEY, SEALING_KEYS, Server};

/// Which stored form a build reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Form {
    /// This build's.
    Current,
    /// otpkit 0.1's: version 1, the secret bound to `totp-record:<id>`.
    Legacy,
}

/// The form `binary` reads, found by asking it: one record in this
/// build's form on a scratch database, one wrong code; a build that cannot
/// open the record answers 500.
pub fn form_of(binary: &str, runtime: &tokio::runtime::Runtime) -> Form {
    if binary == crate::SERVER_BIN {
        return Form::Current;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("probe.db").display());
    runtime.block_on(async {
        // Migrated by the build itself (killed once it listens).
        Server::spawn(Server::command_of(binary, &database, &[]), &database).kill();
        let now = crate::now();
        let options = seed_options();
        let record =
            TotpRecord::import("bench", "user-0", Secret::generate(), &options, None, now).unwrap();
        let keyring: Keyring = SEALING_KEYS.parse().unwrap();
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&database).await.unwrap();
        sqlx::query("INSERT INTO totp (user_id, version, record) VALUES ($1, 1, $2)")
            .bind("user-0")
            .bind(stored_for(Form::Current, &record, &keyring))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let server = Server::spawn(Server::command_of(binary, &database, &[]), &database);
        let right = record.totp().generate_at(now).unwrap().to_string();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        let status = reqwest::Client::new()
            .post(format!("{}/v1/users/user-0/verify_totp", server.base))
            .bearer_auth(API_KEY)
            .json(&serde_json::json!({ "code": wrong }))
            .send()
            .await
            .expect("an answer")
            .status();
        if status.is_server_error() {
            let log = server.log();
            eprintln!(
                "{binary} cannot read this build's stored form: {:?}",
                log.lines().last()
            );
        }
        server.kill();
        if status.is_server_error() {
            Form::Legacy
        } else {
            Form::Current
        }
    })
}

/// How the benches seed records: no backup codes (a backup-code hash costs
/// 12 ms by design and is not what they measure), and the lockout with a
/// quiet hour (what every build reads: 0.2's default before the second
/// review, which needed the quiet period longer than the longest lock).
pub fn seed_options() -> EnrollmentOptions {
    use otpkit::record::Lockout;
    let lockout = Lockout::with_limits(5, 30, 900, 3600).unwrap();
    let backup_lockout = Lockout::with_limits(10, 60, 900, 3600).unwrap();
    EnrollmentOptions::default()
        .backup_codes(None)
        .lockout(lockout)
        .backup_lockout(backup_lockout)
}

/// `record` sealed and stored in `form`; the legacy form drops the fields
/// added since 0.1 (its loader refuses unknown fields).
pub fn stored_for(form: Form, record: &TotpRecord, keyring: &Keyring) -> String {
    let mut json = serde_json::to_value(record.seal(keyring).unwrap()).unwrap();
    if form == Form::Legacy {
        let object = json.as_object_mut().unwrap();
        object.remove("backup_lockout");
        if let Some(lockout) = object.get_mut("lockout").and_then(|l| l.as_object_mut()) {
            lockout.remove("max_lock");
            lockout.remove("quiet_period");
        }
        let id = object["id"].as_str().unwrap().to_owned();
        let context = format!("totp-record:{id}");
        let sealed = keyring
            .seal(record.totp().secret(), context.as_bytes())
            .unwrap();
        object.insert("version".into(), serde_json::json!(1));
        object.insert("secret".into(), serde_json::json!(sealed.to_string()));
    }
    json.to_string()
}
