//! The purge: what only tells of the past goes (past quota windows, old
//! messages and feedback, expired authentications, idle enrollments,
//! tombstones past their day), once an interval for all the instances
//! sharing the database (the first to tick claims it).

use super::{Backend, MESSAGE_LIFETIME, Store};

/// What a [`Store::purge`] deleted, rows of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Past quota windows.
    pub quotas: u64,
    /// Old dev outbox messages and expired queued ones.
    pub messages: u64,
    /// Authentications expired long enough ago.
    pub authentications: u64,
    /// Ding feedback older than [`FEEDBACK_KEEP`].
    pub feedback: u64,
    /// Unverified enrollments past their grace period (now tombstones).
    pub enrollments: u64,
    /// Tombstones of deleted TOTP rows, a day after the purge first saw
    /// them.
    pub tombstones: u64,
}

/// How long Ding feedback is kept, seconds (30 days): long enough to
/// refuse the same feedback twice for a sign-up, no longer.
pub const FEEDBACK_KEEP: i64 = 30 * 86_400;

/// How long a tombstone (a deleted TOTP row, its version kept) stays after
/// the purge first sees it, seconds. It exists so that a request that read
/// the deleted state cannot save over a state created after the deletion
/// (ABA). When it goes, the highest version it had is kept in
/// `version_floor` and a new row starts above it, so even then no (key,
/// version) pair is used twice.
pub const TOMBSTONE_KEEP: i64 = 86_400;

impl Store {
    /// The purge at Unix time `now` ([`Store::purge`]), if it is this
    /// instance's to run ([`Store::claim_purge`]): `None` when another
    /// instance started one within the interval. A purge that fails gives
    /// its claim back, so the next instance to tick tries at once.
    ///
    /// # Errors
    /// A database error.
    pub async fn purge_if_due(
        &self,
        now: u64,
        every: u64,
        keep_expired: u64,
        enrollment_grace: u64,
    ) -> Result<Option<Purged>, sqlx::Error> {
        if !self.claim_purge(now, every).await? {
            return Ok(None);
        }
        match self.purge(now, keep_expired, enrollment_grace).await {
            Ok(purged) => Ok(Some(purged)),
            Err(error) => {
                if let Err(release) = self.release_purge(now).await {
                    tracing::warn!(error = %release, "giving back the purge's claim failed");
                }
                Err(error)
            }
        }
    }

    /// Claims the purge due at Unix time `now` for this instance: `true`
    /// when no instance started one in the last `every` seconds (less a
    /// tenth, at least a second, so that ticks rounded to the second never
    /// skip an interval), and the claim is then this instance's. A claim
    /// dated more than an interval ahead of `now` (an instance whose clock
    /// ran fast) does not hold the others off. One statement, a
    /// compare-and-set on one row (written if it is missing): of several
    /// instances ticking in the same interval one purges, and the database
    /// scans its tables once an interval however many instances share it.
    ///
    /// # Errors
    /// A database error.
    pub async fn claim_purge(&self, now: u64, every: u64) -> Result<bool, sqlx::Error> {
        let slack = (every / 10).max(1);
        let due = now.saturating_sub(every.saturating_sub(slack));
        let ahead = now.saturating_add(every);
        let [now, due, ahead] = [now, due, ahead].map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        let claimed = sqlx::query(
            "INSERT INTO purge_schedule (name, last_started) VALUES ('purge', $1) \
             ON CONFLICT (name) DO UPDATE SET last_started = excluded.last_started \
             WHERE purge_schedule.last_started <= $2 OR purge_schedule.last_started > $3",
        )
        .bind(now)
        .bind(due)
        .bind(ahead)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Gives back the claim this instance made at `now` (its purge
    /// failed): the next instance to tick claims the purge.
    ///
    /// # Errors
    /// A database error.
    pub async fn release_purge(&self, now: u64) -> Result<(), sqlx::Error> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE purge_schedule SET last_started = 0 WHERE name = 'purge' AND last_started = $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes what only tells of the past, as of Unix time `now`: quota
    /// windows that ended more than a day ago (a day window, at most two
    /// days old, is still counted), `--dev` outbox messages older than a
    /// day (they hold the codes sent, in plaintext), queued messages never
    /// taken within [`MESSAGE_LIFETIME`] (their codes have expired), and
    /// authentications that expired more than `keep_expired` seconds ago
    /// (their status reads as unknown after that), unverified TOTP
    /// enrollments untouched for `enrollment_grace` seconds (they become
    /// tombstones), and tombstones [`TOMBSTONE_KEEP`] after a purge first
    /// saw them.
    ///
    /// # Errors
    /// A database error.
    pub async fn purge(
        &self,
        now: u64,
        keep_expired: u64,
        enrollment_grace: u64,
    ) -> Result<Purged, sqlx::Error> {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let keep_expired = i64::try_from(keep_expired).unwrap_or(i64::MAX);
        let enrollment_grace = i64::try_from(enrollment_grace).unwrap_or(i64::MAX);
        let execute = |sql: &'static str, before: i64| async move {
            Ok::<_, sqlx::Error>(
                sqlx::query(sql)
                    .bind(before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected(),
            )
        };
        let quotas = execute(
            "DELETE FROM quota WHERE window_start < $1",
            now.saturating_sub(2 * 86_400),
        )
        .await?;
        let outbox = execute(
            "DELETE FROM outbox WHERE sent_at < $1",
            now.saturating_sub(86_400).saturating_mul(1000),
        )
        .await?;
        let unsent = execute(
            "DELETE FROM messages WHERE created_at < $1",
            now.saturating_sub(MESSAGE_LIFETIME).saturating_mul(1000),
        )
        .await?;
        let authentications = execute(
            "DELETE FROM authentications WHERE expires_at < $1",
            now.saturating_sub(keep_expired),
        )
        .await?;
        let feedback = execute(
            "DELETE FROM feedback WHERE created_at < $1",
            now.saturating_sub(FEEDBACK_KEEP).saturating_mul(1000),
        )
        .await?;
        let enrollments = self.purge_enrollments(now, enrollment_grace).await?;
        let tombstones = self.purge_tombstones(now).await?;
        Ok(Purged {
            quotas,
            messages: outbox.saturating_add(unsent),
            authentications,
            feedback,
            enrollments,
            tombstones,
        })
    }

    /// Tombstones: dated when a purge first sees them, deleted
    /// [`TOMBSTONE_KEEP`] after, in one transaction with the version floor
    /// raised to the highest version deleted (a new row starts above it).
    async fn purge_tombstones(&self, now: i64) -> Result<u64, sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE totp SET deleted_at = $1 WHERE record = '' AND deleted_at IS NULL")
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        let before = now.saturating_sub(TOMBSTONE_KEEP);
        sqlx::query(
            "UPDATE version_floor SET floor = (SELECT MAX(v) FROM (\
             SELECT floor AS v FROM version_floor WHERE name = 'totp' UNION ALL \
             SELECT version AS v FROM totp WHERE record = '' AND deleted_at < $1) AS versions) \
             WHERE name = 'totp'",
        )
        .bind(before)
        .execute(&mut *transaction)
        .await?;
        let deleted = sqlx::query("DELETE FROM totp WHERE record = '' AND deleted_at < $1")
            .bind(before)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        transaction.commit().await?;
        Ok(deleted)
    }

    /// Unverified enrollments not touched for `grace` seconds become
    /// tombstones (emptied, their version bumped, as a delete does: a
    /// request still in flight on one loses its compare-and-set and finds
    /// no TOTP, and a new enrollment of the user never reuses a version).
    async fn purge_enrollments(&self, now: i64, grace: i64) -> Result<u64, sqlx::Error> {
        // The stored form's plain fields (the secret is the only sealed
        // one), read by each database's JSON functions, after a text match
        // that passes the rows the stored form marks `"verified":false`
        // (compact serde_json, as every writer of the column writes it): almost every row is verified, and is
        // then passed over without parsing its JSON (a full parse of every
        // row was most of the purge's cost). A row written with other
        // spacing by another writer is kept, never purged by mistake.
        let (verified, updated_at) = match self.backend {
            Backend::Sqlite => (
                "json_extract(record, '$.verified') = 0",
                "json_extract(record, '$.updated_at')",
            ),
            Backend::Postgres => (
                "(record::jsonb ->> 'verified') = 'false'",
                "(record::jsonb ->> 'updated_at')::bigint",
            ),
        };
        let done = sqlx::query(&format!(
            "UPDATE totp SET record = '', version = version + 1 \
             WHERE record LIKE '%\"verified\":false%' \
             AND {verified} AND {updated_at} < $1"
        ))
        .bind(now.saturating_sub(grace))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
