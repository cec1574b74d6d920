//! The command line: flags into a [`Config`], logging, and
//! the exit code.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::Config;

/// The reference 2FA server on otpkit: Clerk's TOTP and Ding's OTP APIs.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0: any free port, logged at start).
    #[arg(long, global = true, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `sqlite://FILE` (created if missing, mode 0600) or
    /// `postgres://USER@HOST/DB` (default: `$DATABASE_URL` if set, else
    /// `sqlite://otpkit.db`). A URL with a password belongs in the
    /// environment, not in argv: see `--database-env`.
    #[arg(long, global = true)]
    database: Option<String>,
    /// Environment variable holding the database URL (so that a password
    /// in it is not in the command line, which every user of the machine
    /// can read).
    #[arg(long, global = true, conflicts_with = "database")]
    database_env: Option<String>,
    /// Environment variable holding the API key (at least 16 characters).
    #[arg(long, global = true, default_value = "OTPKIT_API_KEY")]
    api_key_env: String,
    /// Environment variable holding the sealing keys, `new[,old…]`
    /// (make one with `otpkit key new`).
    #[arg(long, global = true, default_value = "OTPKIT_SEALING_KEYS")]
    sealing_keys_env: String,
    /// Environment variable holding the pepper (at least 16 bytes).
    #[arg(long, global = true, default_value = "OTPKIT_PEPPER")]
    pepper_env: String,
    /// Environment variable listing Ding tenants: `KEY=CUSTOMER_UUID[,…]`
    /// entries separated by `;`. A tenant's key calls Ding's routes for its
    /// customers only (the main API key acts for every customer).
    #[arg(long, global = true, default_value = "OTPKIT_DING_KEYS")]
    ding_keys_env: String,
    /// Demo mode, on loopback only: /demo pages, /dev/outbox, and the
    /// demo's own keys, generated at first start into a 0600 file beside
    /// the database (refuses production keys in the environment).
    #[arg(long, global = true)]
    dev: bool,
    /// Where `--dev` keeps its keys (default: `FILE.dev-keys` beside a
    /// SQLite database `FILE`; PostgreSQL needs it).
    #[arg(long, global = true, requires = "dev")]
    dev_keys: Option<std::path::PathBuf>,
    /// The issuer authenticator apps show.
    #[arg(long, global = true, default_value = "otpkit demo")]
    issuer: String,
    /// Database connections (default 4 on SQLite, 16 on PostgreSQL).
    #[arg(long, global = true)]
    max_connections: Option<u32>,
    /// Commit up to this many requests' writes in one statement (1 to 64;
    /// 1 commits each on its own, and reads each request's row with a
    /// statement of its own instead of concurrent requests' in one).
    #[arg(long, global = true, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=64))]
    write_batch: u16,
    /// What a SQLite commit survives: `full` (synced at each commit: a
    /// power loss undoes nothing answered) or `normal` (synced at
    /// checkpoints: a power loss may undo the last commits, bringing back
    /// a used code).
    #[arg(long, global = true, default_value = "full", value_parser = clap::value_parser!(crate::store::Durability))]
    sqlite_synchronous: crate::store::Durability,
    /// Serve even when rows in the database are sealed with keys the
    /// keyring lacks (their users' 2FA fails until the key is back).
    #[arg(long, global = true)]
    allow_missing_keys: bool,
    /// Log lines as text or as JSON objects (one a line).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Environment variable holding the key `/metrics` alone answers to
    /// (a bearer token, 16+ characters); when it is set, the API key no
    /// longer opens `/metrics`.
    #[arg(long, global = true, default_value = "OTPKIT_METRICS_KEY")]
    metrics_key_env: String,
    /// Backup-code hashes run at once (default: the cores but one).
    #[arg(long, global = true)]
    hash_concurrency: Option<usize>,
    /// Requests that may wait for a hashing slot before one is refused
    /// with 429 (default: 4 per hashing slot).
    #[arg(long, global = true)]
    hash_queue: Option<usize>,
    /// Wrong codes one client may send for one user before it is refused
    /// (429) for that user, until an hour passes with none (1 to 20).
    #[arg(long, global = true, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    client_failures: u32,
    /// Peers whose `X-Forwarded-For` names the end user: the app's
    /// backends or a proxy in front, as addresses and CIDR ranges
    /// (`10.0.0.5,10.0.1.0/24`; the flag may repeat). From any other peer
    /// no end user is named: the per-user budgets alone apply.
    #[arg(long, global = true, value_delimiter = ',', value_parser = trusted_proxy)]
    trusted_proxy: Vec<crate::client::TrustedProxies>,
    /// SMS codes to one phone number per hour.
    #[arg(long, global = true, default_value_t = 5)]
    sms_phone_per_hour: u32,
    /// SMS codes to one phone number per day.
    #[arg(long, global = true, default_value_t = 10)]
    sms_phone_per_day: u32,
    /// SMS codes one end user's address (Ding's `ip`, or the end user a
    /// trusted peer names) may have sent per hour, per customer.
    #[arg(long, global = true, default_value_t = 20)]
    sms_address_per_hour: u32,
    /// SMS codes for one customer per hour.
    #[arg(long, global = true, default_value_t = 1000)]
    sms_customer_per_hour: u32,
    /// SMS codes for one customer per day.
    #[arg(long, global = true, default_value_t = 10_000)]
    sms_customer_per_day: u32,
    /// Codes checked for one phone number per hour, across authentications.
    #[arg(long, global = true, default_value_t = 15)]
    sms_checks_per_hour: u32,
    /// Codes checked for one phone number per day.
    #[arg(long, global = true, default_value_t = 30)]
    sms_checks_per_day: u32,
    /// Seconds a Ding authentication waits before a retry may send a new
    /// code (1 to 3600).
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    sms_retry_cooldown: u64,
    /// Country calling codes that may receive SMS codes (`1,33,44`); all
    /// when not given.
    #[arg(long, global = true, value_delimiter = ',')]
    sms_countries: Vec<String>,
    /// Send SMS messages by POSTing them to this URL (`https://…`, or
    /// `http://` to loopback), signed with HMAC-SHA256 (header
    /// `x-otpkit-signature`). Without it: the dev outbox with `--dev`,
    /// else no sender (sending a code answers 503).
    #[arg(long, global = true)]
    sms_webhook: Option<String>,
    /// Environment variable holding the webhook's HMAC key (at least 16
    /// bytes).
    #[arg(long, global = true, default_value = "OTPKIT_SMS_WEBHOOK_KEY")]
    sms_webhook_key_env: String,
    /// Seconds between two purges of what only tells of the past (past
    /// quota windows, old or expired messages, expired authentications).
    /// One purge an interval serves every instance sharing the database,
    /// run with the settings of the one that claims it: give them all the
    /// same `--purge-every`, `--keep-expired` and `--enrollment-grace`.
    #[arg(long, global = true, default_value_t = 600)]
    purge_every: u64,
    /// Seconds an expired Ding authentication is kept (its status
    /// readable) before the purge deletes it.
    #[arg(long, global = true, default_value_t = 86_400)]
    keep_expired: u64,
    /// Seconds an unverified TOTP enrollment may wait for its first code
    /// (unchanged) before the purge removes it.
    #[arg(long, global = true, default_value_t = 86_400)]
    enrollment_grace: u64,
    /// Connections served at once (more wait in the listen backlog).
    #[arg(long, global = true, default_value_t = 1024)]
    connection_limit: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, global = true, default_value_t = 5)]
    header_timeout: u64,
    /// Seconds to answer a request, body included (then 503).
    #[arg(long, global = true, default_value_t = 15)]
    request_timeout: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

impl Args {
    /// The database URL: `--database-env`'s variable, `--database`,
    /// `$DATABASE_URL`, or the default file.
    fn database(&self) -> Result<String, String> {
        if let Some(var) = &self.database_env {
            return match std::env::var(var) {
                Ok(url) if !url.is_empty() => Ok(url),
                _ => Err(format!(
                    "--database-env {var}: {var} is not set (it should hold the database URL)"
                )),
            };
        }
        if let Some(url) = &self.database {
            if url.contains('@') && crate::store::url::redacted(url) != *url {
                tracing::warn!(
                    "--database holds a password, which every user of this machine can read in                      the process list: pass the URL with --database-env VAR (or DATABASE_URL)"
                );
            }
            return Ok(url.clone());
        }
        Ok(std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "sqlite://otpkit.db".to_owned()))
    }

    fn limits(&self) -> crate::limits::Limits {
        let default = crate::limits::Limits::default();
        let hash_concurrency = self
            .hash_concurrency
            .unwrap_or(default.hash_concurrency)
            .max(1);
        crate::limits::Limits {
            hash_concurrency,
            hash_queue: self.hash_queue.unwrap_or(4 * hash_concurrency),
            client_failures: self.client_failures,
            trusted_proxies: self
                .trusted_proxy
                .iter()
                .flat_map(|list| list.nets().iter().copied())
                .collect(),
            sms: crate::limits::SmsLimits {
                phone_per_hour: self.sms_phone_per_hour,
                phone_per_day: self.sms_phone_per_day,
                address_per_hour: self.sms_address_per_hour,
                customer_per_hour: self.sms_customer_per_hour,
                customer_per_day: self.sms_customer_per_day,
                checks_per_hour: self.sms_checks_per_hour,
                checks_per_day: self.sms_checks_per_day,
                countries: self
                    .sms_countries
                    .iter()
                    .map(|cc| cc.trim().trim_start_matches('+').to_owned())
                    .filter(|cc| !cc.is_empty())
                    .collect(),
            },
            ..default
        }
    }
}

/// A new set of production secrets as `VAR=value` lines: an API key and a
/// pepper of 256 bits each (Base32), and a sealing key from the OS RNG.
fn new_secrets(config: &crate::app::Config) -> String {
    let random = || {
        otpkit::Secret::generate_for(otpkit::Algorithm::Sha256)
            .to_base32()
            .to_string()
    };
    let sealing = otpkit::seal::SealingKey::generate();
    format!(
        "# otpkit-server's secrets: keep them in your secrets manager, never in the\n\
         # database's backups. The pepper never changes once codes are stored with it.\n\
         {}={}\n{}={}\n{}={}\n",
        config.api_key_env,
        random(),
        config.sealing_keys_env,
        *sealing.to_text(),
        config.pepper_env,
        random(),
    )
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One line of text per event (`key=value` fields).
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// Logs to stderr at `RUST_LOG` (default `info`): colour only on a
/// terminal; PostgreSQL's notices (the migrations' "already exists,
/// skipping") only as warnings. Lines go through a writer thread that
/// writes what is queued at once (one `write` for many lines under load);
/// a full queue makes the logging wait rather than drop a line, and the
/// guard returned flushes the queue when dropped at the end of `serve`
/// (tracing-appender waits up to a second for it).
fn logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal as _;
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    if let Ok(quiet) = "sqlx::postgres::notice=warn".parse() {
        filter = filter.add_directive(quiet);
    }
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // Buffered: the worker writes what it drained, then flushes.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

/// One `--trusted-proxy` entry: an address or a CIDR range.
fn trusted_proxy(text: &str) -> Result<crate::client::TrustedProxies, String> {
    text.parse()
}

/// What to do instead of serving.
#[derive(Subcommand)]
enum Command {
    /// Re-seal every stored TOTP record under the first of the sealing
    /// keys, then exit: after it, the old keys can be dropped.
    Rekey,
    /// Count the sealed rows per sealing key (TOTP records, queued
    /// messages) and how many need `rekey`, then exit: when none does,
    /// the old keys can be dropped.
    Keys,
    /// Print a new API key, sealing key and pepper, in the environment's
    /// format (`VAR=value` lines, the variables the flags name), then exit.
    Secrets,
}

/// Runs `otpkit-server` with the process's arguments until it is stopped:
/// 0 after a clean shutdown, 2 when it cannot start (the reason on stderr).
#[must_use]
pub fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(serve()),
        Err(error) => {
            eprintln!("otpkit-server: cannot start the async runtime: {error}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> ExitCode {
    let args = Args::parse();
    // Held to the end of `serve`: dropping it writes the last lines.
    let _logs = logging(args.log_format);
    if let Some(bad) = args.sms_countries.iter().find(|cc| {
        let cc = cc.trim().trim_start_matches('+');
        cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit())
    }) {
        eprintln!(
            "otpkit-server: --sms-countries: {bad:?} is not a country calling code (1 to 3 digits, as in 1,33,44)"
        );
        return ExitCode::from(2);
    }
    let database = match args.database() {
        Ok(database) => database,
        Err(error) => {
            eprintln!("otpkit-server: {error}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        limits: args.limits(),
        connections: crate::listen::Connections {
            max: args.connection_limit.max(1),
            header_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
            request_timeout: std::time::Duration::from_secs(args.request_timeout.max(1)),
        },
        purge: crate::app::Purge {
            every: std::time::Duration::from_secs(args.purge_every.max(1)),
            keep_expired: std::time::Duration::from_secs(args.keep_expired),
            enrollment_grace: std::time::Duration::from_secs(args.enrollment_grace),
        },
        listen: args.listen,
        database,
        api_key_env: args.api_key_env,
        sealing_keys_env: args.sealing_keys_env,
        pepper_env: args.pepper_env,
        ding_keys_env: args.ding_keys_env,
        dev: args.dev,
        dev_keys: args.dev_keys,
        challenge: otpkit::challenge::ChallengePolicy::default()
            .retry_cooldown(args.sms_retry_cooldown),
        issuer: args.issuer,
        max_connections: args.max_connections,
        write_batch: usize::from(args.write_batch),
        durability: args.sqlite_synchronous,
        allow_missing_keys: args.allow_missing_keys,
        metrics_key_env: args.metrics_key_env.clone(),
        sms_webhook: args.sms_webhook,
        sms_webhook_key_env: args.sms_webhook_key_env,
    };
    if let Some(Command::Secrets) = args.command {
        print!("{}", new_secrets(&config));
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Keys) = args.command {
        return match crate::operations::keys(&config).await {
            Ok(report) if report.missing.is_empty() => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Ok(report) => {
                // Rows this keyring cannot open: not an all-clear.
                println!("{report}");
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("otpkit-server: {error}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(Command::Rekey) = args.command {
        return match crate::operations::rekey(&config).await {
            Ok(done) if done.skipped.is_empty() => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Ok(done) => {
                // Every other row is re-sealed; the old key may still be
                // needed by the ones left.
                println!("{done}");
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("otpkit-server: {error}");
                ExitCode::from(2)
            }
        };
    }
    match crate::app::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("otpkit-server: {error}");
            ExitCode::from(2)
        }
    }
}
