//! The command line: flags into a [`Config`], logging, and
//! the exit code.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::Config;

/// The reference 2FA server on otpkit: Clerk's TOTP and Ding's OTP APIs.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0: any free port, logged at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, default_value = "sqlite://otpkit.db")]
    database: String,
    /// Environment variable holding the API key (at least 16 characters).
    #[arg(long, default_value = "OTPKIT_API_KEY")]
    api_key_env: String,
    /// Environment variable holding the sealing keys, `new[,old…]`
    /// (make one with `otpkit key new`).
    #[arg(long, default_value = "OTPKIT_SEALING_KEYS")]
    sealing_keys_env: String,
    /// Environment variable holding the pepper (at least 16 bytes).
    #[arg(long, default_value = "OTPKIT_PEPPER")]
    pepper_env: String,
    /// Demo mode: /demo pages, /dev/outbox, and keys generated (and kept
    /// in the database) when not configured. Not for production.
    #[arg(long)]
    dev: bool,
    /// The issuer authenticator apps show.
    #[arg(long, default_value = "otpkit demo")]
    issuer: String,
    /// Database connections (default 4 on SQLite, 16 on PostgreSQL).
    #[arg(long)]
    max_connections: Option<u32>,
    /// Commit up to this many requests' writes in one transaction (1 to
    /// 64; 1 commits each on its own).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=64))]
    write_batch: u16,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Subcommand)]
enum Command {
    /// Re-seal every stored TOTP record under the first of the sealing
    /// keys, then exit: after it, the old keys can be dropped.
    Rekey,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = Config {
        listen: args.listen,
        database: args.database,
        api_key_env: args.api_key_env,
        sealing_keys_env: args.sealing_keys_env,
        pepper_env: args.pepper_env,
        dev: args.dev,
        issuer: args.issuer,
        max_connections: args.max_connections,
        write_batch: usize::from(args.write_batch),
    };
    if let Some(Command::Rekey) = args.command {
        return match crate::rekey(&config).await {
            Ok(done) => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("otpkit-server: {error}");
                ExitCode::from(2)
            }
        };
    }
    match crate::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("otpkit-server: {error}");
            ExitCode::from(2)
        }
    }
}
