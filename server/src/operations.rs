//! The operator's commands: `otpkit-server rekey` re-seals every sealed
//! row under the first sealing key (TOTP records, queued messages, Ding
//! authentications' tags), so a rotation ends and the old key can go;
//! `otpkit-server keys` counts the rows per key. Both are safe beside
//! running servers: rekey saves each row with a compare-and-set.

use crate::app::{Config, keyring};
use crate::error::StartError;
use crate::store::{self, Store};

/// What `otpkit-server rekey` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    /// The key every row is now sealed with.
    pub key_id: String,
    /// TOTP records re-sealed by this run.
    pub resealed: usize,
    /// TOTP records that were sealed with it already.
    pub already: usize,
    /// Queued messages re-sealed.
    pub messages: usize,
    /// Ding authentications whose tag was made again.
    pub authentications: usize,
    /// Queued messages and authentications no configured key opens
    /// (changed by a writer, or sealed with a key already dropped): never
    /// served, and gone with the purge.
    pub unreadable: usize,
    /// TOTP records left as they were, each with why: no configured key
    /// opens it, it is another account's (a moved row), or it does not
    /// parse. The server refuses them too; `rekey` exits non-zero while
    /// any is left, since the key they need may still be missing.
    pub skipped: Vec<(String, String)>,
}

impl std::fmt::Display for Rekeyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "re-sealed {} records under key {}; {} were already",
            self.resealed, self.key_id, self.already
        )?;
        write!(
            f,
            "re-sealed {} queued messages and {} Ding authentications",
            self.messages, self.authentications
        )?;
        if self.unreadable > 0 {
            write!(
                f,
                "; {} open with no key (never served; the purge drops them)",
                self.unreadable
            )?;
        }
        if !self.skipped.is_empty() {
            write!(
                f,
                "\n{} TOTP records left as they were (listed above): find the key they were \
                 sealed with, or delete them",
                self.skipped.len()
            )?;
        }
        Ok(())
    }
}

/// Re-seals every sealed row under the first sealing key (key rotation's
/// last step: the old keys can be dropped after it): TOTP records, queued
/// messages and Ding authentications' tags. It also binds every record
/// sealed by otpkit 0.1 (its secret bound to its id only) to its whole
/// state: run it once after upgrading, as the server refuses the old form.
///
/// Each row is loaded, re-sealed by the library
/// (`StoredTotpRecord::rekey`, the keyring) and saved with a
/// compare-and-set, so it is safe beside running servers: a row a request
/// changed meanwhile is loaded again, a message sent meanwhile is left
/// gone. It is resumable: a run stopped halfway leaves every row it saved
/// on the new key, and the next run skips those. Progress goes to stderr
/// about every second.
///
/// A TOTP record that no key opens, that is another account's, or that
/// does not parse is skipped, named on stderr and counted in
/// [`Rekeyed::skipped`]; every other row is re-sealed.
///
/// # Errors
/// A database that cannot be opened or written, or missing keys.
pub async fn rekey(config: &Config) -> Result<Rekeyed, StartError> {
    let store = Store::connect_existing(&config.database, config.max_connections)
        .await
        .map_err(|e| {
            StartError(format!(
                "opening {}: {e}",
                store::url::redacted(&config.database)
            ))
        })?;
    let keyring = keyring(&store, config).await?;
    store
        .note_sealing_key(keyring.sealing_key_id())
        .await
        .map_err(|e| StartError(format!("noting the sealing key: {e}")))?;
    let mut done = Rekeyed {
        key_id: keyring.sealing_key_id().to_owned(),
        resealed: 0,
        already: 0,
        messages: 0,
        authentications: 0,
        unreadable: 0,
        skipped: Vec::new(),
    };
    let counting = |e: sqlx::Error| StartError(format!("counting rows: {e}"));
    let messages = store
        .sealed_messages()
        .await
        .map_err(|e| StartError(format!("listing messages: {e}")))?;
    let total = store.count(store::Table::Totp).await.map_err(counting)?
        + store
            .count(store::Table::Authentication)
            .await
            .map_err(counting)?
        + messages.len();
    let mut progress = Progress::new(total);
    let mut rows = 0;
    let mut pages = RecordPages::of(store::Table::Totp);
    while let Some(users) = pages.next(&store).await? {
        for user in &users {
            progress.tick(rows);
            rows += 1;
            match reseal_record(&store, &keyring, user).await? {
                Ok(Resealed::Now) => done.resealed += 1,
                Ok(Resealed::Already) => done.already += 1,
                Ok(Resealed::Gone) => {}
                Err(why) => {
                    eprintln!("rekey: TOTP record of {user:?} left as it was: {why}");
                    done.skipped.push((user.clone(), why));
                }
            }
        }
    }
    let saving = |e: sqlx::Error| StartError(format!("saving a re-sealed row: {e}"));
    for (id, sealed) in &messages {
        progress.tick(rows);
        rows += 1;
        match crate::delivery::reseal(id, sealed, &keyring) {
            Ok(None) => {}
            // Sent (deleted) meanwhile when the compare-and-set fails.
            Ok(Some(again)) => {
                if store
                    .reseal_message(id, sealed, &again)
                    .await
                    .map_err(saving)?
                {
                    done.messages += 1;
                }
            }
            Err(error) => {
                eprintln!("rekey: queued message {id}: {error}");
                done.unreadable += 1;
            }
        }
    }
    let mut pages = RecordPages::of(store::Table::Authentication);
    while let Some(uuids) = pages.next(&store).await? {
        for uuid in &uuids {
            progress.tick(rows);
            rows += 1;
            loop {
                let loaded = store
                    .load(store::Table::Authentication, uuid)
                    .await
                    .map_err(|e| StartError(format!("authentication {uuid}: {e}")))?;
                let Some(row) = loaded else { break };
                match crate::service::ding::retag_authentication(&row.json, uuid, &keyring) {
                    Ok(None) => break,
                    Ok(Some(json)) => {
                        if store
                            .compare_and_set(store::Table::Authentication, uuid, row.version, json)
                            .await
                            .map_err(saving)?
                        {
                            done.authentications += 1;
                            break;
                        }
                    }
                    Err(_) => {
                        // The cause is logged by the error itself.
                        eprintln!("rekey: authentication {uuid} does not open; left as it is");
                        done.unreadable += 1;
                        break;
                    }
                }
            }
        }
    }
    if done.skipped.is_empty() {
        // Every row opens with the sealing key now: the start check no
        // longer asks for the others.
        store
            .forget_sealing_keys_but(&done.key_id)
            .await
            .map_err(|e| StartError(format!("forgetting the old keys: {e}")))?;
    }
    store.close().await;
    Ok(done)
}

/// What became of one TOTP record.
enum Resealed {
    /// Re-sealed under the sealing key.
    Now,
    /// It was sealed with it already.
    Already,
    /// Deleted meanwhile.
    Gone,
}

/// Loads `user`'s record, re-seals it and saves it with a compare-and-set
/// (again if a request saved first). `Err` (outer) is the database's;
/// `Ok(Err(why))` a record left as it was.
async fn reseal_record(
    store: &Store,
    keyring: &otpkit::Keyring,
    user: &str,
) -> Result<Result<Resealed, String>, StartError> {
    loop {
        let Some(row) = store
            .load(store::Table::Totp, user)
            .await
            .map_err(|e| StartError(format!("reading the record of {user:?}: {e}")))?
        else {
            return Ok(Ok(Resealed::Gone));
        };
        let stored: otpkit::StoredTotpRecord = match serde_json::from_str(&row.json) {
            Ok(stored) => stored,
            Err(e) => return Ok(Err(format!("it is not a stored record ({e})"))),
        };
        if !stored.needs_rekey(keyring) {
            return Ok(Ok(Resealed::Already));
        }
        // An old record's other fields were not authenticated: it is bound
        // only if it is this user's.
        let record = match stored.open_legacy(keyring) {
            Ok(record) => record,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if record.account() != user {
            return Ok(Err("it is another account's (a row was moved)".to_owned()));
        }
        let json = match record.seal(keyring).map(|r| serde_json::to_string(&r)) {
            Ok(Ok(json)) => json,
            Ok(Err(e)) => return Ok(Err(e.to_string())),
            Err(e) => return Ok(Err(e.to_string())),
        };
        if store
            .compare_and_set(store::Table::Totp, user, row.version, json)
            .await
            .map_err(|e| StartError(format!("saving the record of {user:?}: {e}")))?
        {
            return Ok(Ok(Resealed::Now));
        }
    }
}

/// The keys of a table's rows, 500 at a time in key order (a page
/// survives writes between pages: each starts after the last key seen).
struct RecordPages {
    table: store::Table,
    after: String,
}

impl RecordPages {
    fn of(table: store::Table) -> Self {
        Self {
            table,
            after: String::new(),
        }
    }

    /// The next page, `None` after the last.
    async fn next(&mut self, store: &Store) -> Result<Option<Vec<String>>, StartError> {
        let users = store
            .keys_after(self.table, &self.after, 500)
            .await
            .map_err(|e| StartError(format!("listing records: {e}")))?;
        let Some(last) = users.last() else {
            return Ok(None);
        };
        self.after.clone_from(last);
        Ok(Some(users))
    }
}

/// A user's stored record and its version, unopened (`None`: deleted
/// meanwhile).
async fn stored_record(
    store: &Store,
    user: &str,
) -> Result<Option<(i64, otpkit::StoredTotpRecord)>, StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError(format!("record of {user:?}: {e}"));
    let Some(row) = store
        .load(store::Table::Totp, user)
        .await
        .map_err(|e| failed(&e))?
    else {
        return Ok(None);
    };
    let stored = serde_json::from_str(&row.json).map_err(|e| failed(&e))?;
    Ok(Some((row.version, stored)))
}

/// What `otpkit-server keys` found: which sealing key each sealed row
/// needs, so an operator knows when an old key can be dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyReport {
    /// The key that seals now (the first configured).
    pub sealing: String,
    /// TOTP records per key id (`(none)` for records stored unsealed).
    pub records: std::collections::BTreeMap<String, usize>,
    /// Records `rekey` would re-seal: on another key, or in 0.1's form.
    pub need_rekey: usize,
    /// Queued messages per key id (gone within an hour: sent or dropped).
    pub messages: std::collections::BTreeMap<String, usize>,
    /// Ding authentications per key id of their tag (gone once expired
    /// and purged).
    pub authentications: std::collections::BTreeMap<String, usize>,
    /// Key ids rows are sealed with that the configured keyring lacks:
    /// those rows do not open until the key is back.
    pub missing: std::collections::BTreeSet<String>,
}

impl std::fmt::Display for KeyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "sealing key: {}", self.sealing)?;
        for (key, n) in &self.records {
            writeln!(f, "key {key}: {n} TOTP records")?;
        }
        for (key, n) in &self.messages {
            writeln!(f, "key {key}: {n} queued messages")?;
        }
        for (key, n) in &self.authentications {
            writeln!(f, "key {key}: {n} Ding authentications")?;
        }
        if self.missing.is_empty() {
            writeln!(f, "every key the rows use is in the keyring")?;
        } else {
            let missing: Vec<&str> = self.missing.iter().map(String::as_str).collect();
            writeln!(
                f,
                "MISSING from the keyring: {} (the rows on it do not open: add the key back)",
                missing.join(", ")
            )?;
        }
        write!(f, "{} records need rekey", self.need_rekey)
    }
}

/// Counts the sealed rows per sealing key (`otpkit-server keys`). Reads
/// only: safe beside running servers.
///
/// # Errors
/// A database that cannot be opened, missing keys, a row that is not a
/// stored record.
pub async fn keys(config: &Config) -> Result<KeyReport, StartError> {
    let store = Store::connect_existing(&config.database, config.max_connections)
        .await
        .map_err(|e| {
            StartError(format!(
                "opening {}: {e}",
                store::url::redacted(&config.database)
            ))
        })?;
    let keyring = keyring(&store, config).await?;
    let mut report = KeyReport {
        sealing: keyring.sealing_key_id().to_owned(),
        ..KeyReport::default()
    };
    let mut pages = RecordPages::of(store::Table::Totp);
    while let Some(users) = pages.next(&store).await? {
        for user in &users {
            let Some((_, stored)) = stored_record(&store, user).await? else {
                continue;
            };
            let key = stored.key_id().unwrap_or("(none)").to_owned();
            *report.records.entry(key).or_default() += 1;
            report.need_rekey += usize::from(stored.needs_rekey(&keyring));
        }
    }
    for (_, sealed) in store
        .sealed_messages()
        .await
        .map_err(|e| StartError(format!("listing messages: {e}")))?
    {
        let key = sealed
            .parse::<otpkit::seal::SealedSecret>()
            .map_or_else(|_| "(unreadable)".to_owned(), |s| s.key_id().to_owned());
        *report.messages.entry(key).or_default() += 1;
    }
    for stored in store
        .stored_authentications()
        .await
        .map_err(|e| StartError(format!("listing authentications: {e}")))?
    {
        let key = serde_json::from_str::<serde_json::Value>(&stored)
            .ok()
            .and_then(|v| {
                v["tag"]
                    .as_str()?
                    .parse::<otpkit::seal::SealedSecret>()
                    .ok()
            })
            .map_or_else(|| "(unreadable)".to_owned(), |s| s.key_id().to_owned());
        *report.authentications.entry(key).or_default() += 1;
    }
    report.missing = report
        .records
        .keys()
        .chain(report.messages.keys())
        .chain(report.authentications.keys())
        .filter(|key| !key.starts_with('(') && !keyring.has_key(key))
        .cloned()
        .collect();
    store.close().await;
    Ok(report)
}

/// Progress of a long `rekey`, on stderr about every second: rows done of
/// the total, the rate, the time left.
struct Progress {
    total: usize,
    started: std::time::Instant,
    shown: std::time::Instant,
}

impl Progress {
    fn new(total: usize) -> Self {
        let now = std::time::Instant::now();
        Self {
            total,
            started: now,
            shown: now,
        }
    }

    fn tick(&mut self, done: usize) {
        if self.shown.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        self.shown = std::time::Instant::now();
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        #[allow(clippy::cast_precision_loss)]
        let rate = done as f64 / seconds;
        #[allow(clippy::cast_precision_loss)]
        let left = self.total.saturating_sub(done) as f64 / rate.max(1e-9);
        eprintln!(
            "rekey: {done} of {} rows, {rate:.0} rows/s, about {left:.0} s left",
            self.total
        );
    }
}
