//! The whole server-side flow of two-factor authentication with otpkit, as
//! a newcomer would write it from the README: enroll a user (QR code in the
//! terminal), verify the first code, hand out backup codes, then sign in
//! with a TOTP code and with a backup code, storing the record sealed in a
//! table with a compare-and-set on a version, as a real database would.
//!
//! Run it with `cargo run --example enroll_verify_backup`. The user's
//! authenticator app is played by `Totp::generate_at` on the same secret.

use std::collections::HashMap;
use std::error::Error;
use std::time::{SystemTime, UNIX_EPOCH};

use otpkit::record::CodeType;
use otpkit::seal::SealingKey;
use otpkit::{Keyring, Pepper, StoredTotpRecord, TotpOutcome, TotpRecord};

/// A table of (version, sealed record JSON) by user id: the compare-and-set
/// an `UPDATE … WHERE version = ?` gives.
#[derive(Default)]
struct Table {
    rows: HashMap<String, (u64, String)>,
}

impl Table {
    fn insert(&mut self, user: &str, record: &StoredTotpRecord) -> Result<(), Box<dyn Error>> {
        self.rows.insert(user.to_owned(), (1, record.to_json()));
        Ok(())
    }

    fn load(&self, user: &str, keyring: &Keyring) -> Result<(u64, TotpRecord), Box<dyn Error>> {
        let (version, json) = self.rows.get(user).ok_or("no such user")?;
        Ok((*version, StoredTotpRecord::from_json(json)?.open(keyring)?))
    }

    /// Saves only if nobody saved since `loaded`; false when the race is lost.
    fn compare_and_set(
        &mut self,
        user: &str,
        loaded: u64,
        record: &StoredTotpRecord,
    ) -> Result<bool, Box<dyn Error>> {
        let row = self.rows.get_mut(user).ok_or("no such user")?;
        if row.0 != loaded {
            return Ok(false);
        }
        *row = (loaded + 1, record.to_json());
        Ok(true)
    }
}

/// One sign-in request: load, check, save if changed; on a lost race, again.
fn check_code(
    table: &mut Table,
    keyring: &Keyring,
    pepper: &Pepper,
    user: &str,
    code: &str,
    now: u64,
) -> Result<TotpOutcome, Box<dyn Error>> {
    loop {
        let (version, record) = table.load(user, keyring)?;
        let (next, outcome) = record.verify(code, pepper, now)?;
        if next == record || table.compare_and_set(user, version, &next.seal(keyring)?)? {
            return Ok(outcome);
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // The application's secrets, from a secrets manager in real life.
    let keyring: Keyring = SealingKey::generate().to_text().parse()?;
    let pepper = Pepper::new(b"another secret from the secrets manager")?;
    let mut table = Table::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let user = "user_42";

    // 1. Enrollment: the secret, its URI and QR code, shown once.
    let (record, enrollment) =
        TotpRecord::create("ACME", "alice@example.com", &Default::default(), now)?;
    table.insert(user, &record.seal(&keyring)?)?;
    println!("Scan this with an authenticator app:\n");
    print!("{}", enrollment.qr().to_terminal(&Default::default()));
    println!(
        "Clerk's TOTP object for the front end:\n{}\n",
        serde_json::to_string_pretty(enrollment.resource())?
    );
    let phone = record.totp().clone(); // the user's app, in this demo

    // 2. The first code verifies the enrollment and issues backup codes.
    let first = phone.generate_at(now)?.to_string();
    let TotpOutcome::Valid { backup_codes, .. } =
        check_code(&mut table, &keyring, &pepper, user, &first, now)?
    else {
        return Err("the first code should verify".into());
    };
    let backup: Vec<String> = backup_codes.iter().map(str::to_owned).collect();
    println!("Verified. Backup codes, shown once: {}", backup.join(" "));

    // 3. The same code again is a replay; a typo is malformed, not an error.
    let again = check_code(&mut table, &keyring, &pepper, user, &first, now + 5)?;
    println!("The first code again: {again:?}");
    let typo = check_code(&mut table, &keyring, &pepper, user, "12 34", now + 6)?;
    println!("A typo: {typo:?}");

    // 4. The next step's code signs in; a backup code does, once.
    let later = phone.generate_at(now + 30)?.to_string();
    let signed_in = check_code(&mut table, &keyring, &pepper, user, &later, now + 30)?;
    assert!(signed_in.is_valid());
    println!("Signed in with the next code.");
    let used = check_code(&mut table, &keyring, &pepper, user, &backup[0], now + 40)?;
    assert!(matches!(
        used,
        TotpOutcome::Valid {
            code_type: CodeType::BackupCode,
            ..
        }
    ));
    let reused = check_code(&mut table, &keyring, &pepper, user, &backup[0], now + 41)?;
    println!("A backup code once: valid; twice: {reused:?}");

    // 5. What the database holds: no secret, no backup code.
    let (_, row) = &table.rows[user];
    let secret = phone.secret().to_base32();
    assert!(!row.contains(secret.as_str()) && !backup.iter().any(|c| row.contains(c.as_str())));
    println!("The stored row holds neither the secret nor a backup code.");
    Ok(())
}
