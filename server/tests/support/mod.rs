//! A real `otpkit-server` process on 127.0.0.1 for the tests, and a small
//! JSON client. The server's tests, the interop package's server tests and
//! the load bench include this one module (`#[path]`); each names the
//! binary to start as `crate::SERVER_BIN`.
#![allow(dead_code)]

pub mod scenarios;
pub mod webhook;
pub mod writer;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otpkit::OtpAuthUri;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const API_KEY: &str = "test-api-key-0123456789abcdef";
/// Keys every process of a test shares (as several instances would).
pub const SEALING_KEYS: &str =
    "otpkit-key:v1:test:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const PEPPER: &str = "a test pepper of at least sixteen bytes";
pub const CUSTOMER: &str = "8f1196d5-806e-4b71-9b24-5f96ec052808";

/// A server process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub database: String,
    /// The API key it answers to.
    pub api_key: String,
    log: Arc<Mutex<String>>,
}

/// Where a `--dev` server on `database` keeps its keys: beside a SQLite
/// file (the server's default), else (PostgreSQL, given as `--dev-keys`)
/// a file in the temp dir named after the database, which every instance
/// on it shares.
pub fn dev_keys_file(database: &str) -> PathBuf {
    if let Some(file) = database.strip_prefix("sqlite://") {
        return PathBuf::from(format!("{}.dev-keys", file.split('?').next().unwrap()));
    }
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    database.hash(&mut hasher);
    std::env::temp_dir().join(format!("otpkit-test-{:016x}.dev-keys", hasher.finish()))
}

/// Writes `text` to a new file only its owner may read (mode 0600).
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The API key a `--dev` server on `database` reads from its keys file.
pub fn dev_api_key(database: &str) -> String {
    let file = dev_keys_file(database);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .find_map(|line| line.strip_prefix("api_key="))
        .unwrap_or_else(|| panic!("no api_key in {}", file.display()))
        .to_owned()
}

/// A SQLite database file in a fresh temp dir (kept alive by the guard).
pub fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = format!("sqlite://{}", dir.path().join("otpkit.db").display());
    (dir, url)
}

impl Server {
    /// Starts `--dev` on `database`, on a free port, and waits until ready.
    pub fn start(database: &str) -> Self {
        Self::start_with(database, &["--dev"])
    }

    /// Starts with `args` (no `--dev` unless given).
    pub fn start_with(database: &str, args: &[&str]) -> Self {
        Self::spawn(Self::command(database, args), database)
    }

    /// The command `start_with` runs, to adjust before [`Server::spawn`].
    pub fn command(database: &str, args: &[&str]) -> Command {
        Self::command_of(crate::SERVER_BIN, database, args)
    }

    /// [`Server::command`] for another build of the server (a bench's
    /// baseline).
    ///
    /// In production mode the keys come from the environment; `--dev`
    /// refuses those, so for it the same keys go into its keys file
    /// ([`dev_keys_file`], unless one is there) and the environment's are
    /// removed.
    pub fn command_of(binary: &str, database: &str, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--database", database])
            .args(args);
        if args.contains(&"--dev") {
            let file = dev_keys_file(database);
            if !file.exists() {
                write_private(
                    &file,
                    &format!("api_key={API_KEY}\nsealing_keys={SEALING_KEYS}\npepper={PEPPER}\n"),
                );
            }
            if !database.starts_with("sqlite:") {
                command.arg("--dev-keys").arg(&file);
            }
            for var in ["OTPKIT_API_KEY", "OTPKIT_SEALING_KEYS", "OTPKIT_PEPPER"] {
                command.env_remove(var);
            }
        } else {
            command
                .env("OTPKIT_API_KEY", API_KEY)
                .env("OTPKIT_SEALING_KEYS", SEALING_KEYS)
                .env("OTPKIT_PEPPER", PEPPER);
        }
        command
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `command` and waits until the server listens.
    pub fn spawn(mut command: Command, database: &str) -> Self {
        let dev = command.get_args().any(|arg| arg == "--dev");
        let mut child = command.spawn().expect("the server binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening on ").nth(1) {
                    // The address alone (a JSON log line goes on after it).
                    let address = address.split(['"', ' ']).next().unwrap_or_default();
                    let _ = tx.send(address.trim().to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
        Self {
            child: Some(child),
            base,
            database: database.to_owned(),
            api_key: if dev {
                dev_api_key(database)
            } else {
                API_KEY.to_owned()
            },
            log,
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the server logs `needle` within 5 s (its stderr is read by
    /// a thread: a line written before an answer may be read after it).
    pub fn logs(&self, needle: &str) -> bool {
        self.logs_any(&[needle])
    }

    /// Whether the server logs one of `needles` within 5 s.
    pub fn logs_any(&self, needles: &[&str]) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !needles.iter().any(|needle| self.log().contains(needle)) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// [`Server::stop`], then everything it logged, to its last line
    /// (`stopped`).
    pub fn stop_and_log(self) -> String {
        let log = Arc::clone(&self.log);
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = log.lock().unwrap().clone();
            if text.contains("stopped") || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits: the server must exit 0 within 10 s.
    pub fn stop(self) {
        self.stop_within(Duration::from_secs(10));
    }

    /// SIGTERM, then waits: the server must exit 0 within `limit`; how
    /// long it took.
    pub fn stop_within(mut self, limit: Duration) -> Duration {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        let pid = i32::try_from(child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("a child's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM is sent");
        let deadline = started + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(status.success(), "exit {status}:\n{}", self.log());
                return started.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    /// A client with the API key: the test's, or the one a `--dev`
    /// server generated.
    pub fn client(&self) -> Client {
        Client::new(&self.base).with_key(Some(&self.api_key))
    }

    /// A client connecting from 127.0.0.`n` (every 127.0.0.0/8 address
    /// reaches a server on 127.0.0.1): another client, as the per-client
    /// limits count.
    pub fn client_at(&self, n: u8) -> Client {
        Client::from_address(&self.base, std::net::Ipv4Addr::new(127, 0, 0, n).into())
            .with_key(Some(&self.api_key))
    }
}

/// `n` clients, client `i` on server `i % servers.len()` and from its own
/// address 127.0.0.(i + 2): many different clients, spread over instances.
pub fn many_clients(servers: &[Server], n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| {
            let last = u8::try_from(i + 2).expect("at most 253 clients");
            servers[i % servers.len()].client_at(last)
        })
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A JSON client with the API key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    key: Option<String>,
    /// The end user this client names in `X-Forwarded-For`, as an app's
    /// backend does for a server that trusts it.
    forwarded_for: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self::with_builder(base, reqwest::Client::builder())
    }

    /// A client whose connections come from `address`.
    pub fn from_address(base: &str, address: std::net::IpAddr) -> Self {
        Self::with_builder(base, reqwest::Client::builder().local_address(address))
    }

    fn with_builder(base: &str, builder: reqwest::ClientBuilder) -> Self {
        Self {
            http: builder
                .timeout(Duration::from_secs(60))
                .build()
                .expect("a client"),
            base: base.to_owned(),
            key: Some(API_KEY.to_owned()),
            forwarded_for: None,
        }
    }

    pub fn with_key(mut self, key: Option<&str>) -> Self {
        self.key = key.map(str::to_owned);
        self
    }

    /// This client, naming `end_user` in `X-Forwarded-For` on every
    /// request (as `http_headers={"X-Forwarded-For": ip}` does with
    /// Clerk's Python SDK).
    pub fn for_end_user(mut self, end_user: &str) -> Self {
        self.forwarded_for = Some(end_user.to_owned());
        self
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        if let Some(end_user) = &self.forwarded_for {
            request = request.header("x-forwarded-for", end_user);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        self.try_raw(path, content_type, body)
            .await
            .expect("the server answers")
    }

    /// As [`Client::raw`], but the connection may fail (a server that
    /// refuses a body without reading it may reset the connection before
    /// the client reads the answer).
    pub async fn try_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.key.as_deref().unwrap_or_default())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send("GET", path, None).await
    }

    /// A counter of `GET /metrics`: the value of the line that starts
    /// with `series` (a name, with its labels if it has any).
    pub async fn metric(&self, series: &str) -> u64 {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body.as_str().expect("metrics are text");
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in {text}"))
            .parse()
            .expect("a count")
    }

    /// Creates a TOTP for `user` and returns its URI.
    pub async fn enroll(&self, user: &str) -> OtpAuthUri {
        let (status, created) = self
            .send("POST", &format!("/v1/users/{user}/totp"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["uri"]
            .as_str()
            .expect("a uri")
            .parse()
            .expect("a valid URI")
    }

    /// Enrolls and verifies `user` with the code of the current step;
    /// returns the URI and the backup codes.
    pub async fn enroll_verified(&self, user: &str) -> (OtpAuthUri, Vec<String>) {
        let uri = self.enroll(user).await;
        let (status, verified) = self
            .post(
                &format!("/v1/users/{user}/totp/attempt_verification"),
                json!({ "code": code_at(&uri, 0) }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{verified}");
        let codes = verified["backup_codes"]
            .as_array()
            .expect("backup codes")
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (uri, codes)
    }

    /// Starts a Ding authentication to `phone` and reads its code off the
    /// dev outbox.
    pub async fn authenticate(&self, phone: &str) -> (String, String) {
        let (status, created) = self
            .post(
                "/v1/authentication",
                json!({ "customer_uuid": CUSTOMER, "phone_number": phone }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let uuid = created["authentication_uuid"].as_str().unwrap().to_owned();
        (uuid, self.last_code(phone).await)
    }

    /// The code in the last message sent to `phone`.
    pub async fn last_code(&self, phone: &str) -> String {
        let phone = phone.replace('+', "%2B");
        let (status, outbox) = self.get(&format!("/dev/outbox?phone_number={phone}")).await;
        assert_eq!(status, StatusCode::OK, "{outbox}");
        let body = outbox["messages"]
            .as_array()
            .unwrap()
            .last()
            .expect("a message")["body"]
            .as_str()
            .unwrap()
            .to_owned();
        body.rsplit(' ').next().unwrap().to_owned()
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code of `uri` for the step `steps` away from now.
pub fn code_at(uri: &OtpAuthUri, steps: i64) -> String {
    let totp = uri.to_totp().unwrap();
    let at = unix_now().checked_add_signed(steps * 30).unwrap();
    totp.generate_at(at).unwrap().to_string()
}

/// A code that is none of the codes valid now (±2 steps).
pub fn wrong_code(uri: &OtpAuthUri) -> String {
    let near: Vec<String> = (-2..=2).map(|s| code_at(uri, s)).collect();
    (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// The stored record of `user`, as JSON (its secret sealed).
pub async fn stored_record(database: &str, user: &str) -> Value {
    let store = otpkit_server::store::Store::connect(database, Some(1))
        .await
        .unwrap();
    let row = store
        .load(otpkit_server::store::Table::Totp, user)
        .await
        .unwrap()
        .expect("a row");
    store.close().await;
    serde_json::from_str(&row.json).unwrap()
}

/// The stored challenge of a Ding authentication, as JSON.
pub async fn stored_challenge(database: &str, uuid: &str) -> Value {
    let store = otpkit_server::store::Store::connect(database, Some(1))
        .await
        .unwrap();
    let row = store
        .load(otpkit_server::store::Table::Authentication, uuid)
        .await
        .unwrap()
        .expect("a row");
    store.close().await;
    // Stored as {"state": "<JSON>", "tag"}: the state, authenticated.
    let stored: Value = serde_json::from_str(&row.json).unwrap();
    let state: Value = serde_json::from_str(stored["state"].as_str().unwrap()).unwrap();
    state["challenge"].clone()
}

/// Where tests keep files for CI to show (screenshots): `target/…`.
pub fn artifacts_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sends all `bodies` to `path` at once (released together by a barrier),
/// each on its own task; the answers in order.
pub async fn race(api: &Client, path: &str, bodies: Vec<Value>) -> Vec<Value> {
    race_spread(std::slice::from_ref(api), path, bodies).await
}

/// A `verify_totp` answer in one shape: 200's body (`verified: true`), or
/// for a Clerk error `{"verified": false, "reason", "code", "status"}`
/// from its first error (`meta.reason` says which refusal). Panics on
/// anything else: a refusal must be a 4xx Clerk error with a long message.
pub fn verdict(status: StatusCode, body: &Value) -> Value {
    if status == StatusCode::OK {
        assert_eq!(body["verified"], serde_json::json!(true), "{body}");
        return body.clone();
    }
    assert!(status.is_client_error(), "{status} {body}");
    let error = &body["errors"][0];
    assert!(error["long_message"].is_string(), "{body}");
    serde_json::json!({
        "verified": false,
        "reason": error["meta"]["reason"],
        "code": error["code"],
        "status": status.as_u16(),
    })
}

/// How many answers have `field` equal to `value`.
pub fn count(answers: &[Value], field: &str, value: Value) -> usize {
    answers.iter().filter(|a| a[field] == value).count()
}

/// A fresh, empty database on the PostgreSQL of `OTPKIT_TEST_POSTGRES`
/// (`.ci/test` starts a throwaway cluster and sets it).
pub async fn postgres() -> String {
    let admin = std::env::var("OTPKIT_TEST_POSTGRES").expect(
        "OTPKIT_TEST_POSTGRES=postgres://… names a PostgreSQL server for the multi-instance \
         tests; `bash .ci/test` starts a throwaway one (see .ci/postgres.sh)",
    );
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .expect("PostgreSQL is reachable");
    let name = format!("otpkit_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("CREATE DATABASE");
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

/// Sends `bodies` to `path` at once, body `i` to `clients[i % n]`
/// (round-robin over instances); the answers in order.
pub async fn race_spread(clients: &[Client], path: &str, bodies: Vec<Value>) -> Vec<Value> {
    let barrier = Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let api = clients[i % clients.len()].clone();
            let (path, barrier) = (path.to_owned(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                let (status, answer) = api.post(&path, body).await;
                if path.ends_with("/verify_totp") || path.ends_with("/attempt_verification") {
                    return verdict(status, &answer);
                }
                assert_eq!(status, StatusCode::OK, "{answer}");
                answer
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("a request task"));
    }
    answers
}

/// The fenced block after `<!-- name -->` in the server's README: the
/// snippets its quick start shows, run by the tests as written.
pub fn readme_snippet(name: &str) -> String {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/README.md")
        .canonicalize()
        .or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("README.md")
                .canonicalize()
        })
        .expect("the server README");
    let text = std::fs::read_to_string(&readme).unwrap();
    let marker = format!("<!-- {name} -->");
    let after = text
        .split_once(&marker)
        .unwrap_or_else(|| panic!("no {marker} in {}", readme.display()))
        .1;
    let body = after.split_once("```").unwrap().1;
    let body = body.split_once('\n').unwrap().1;
    body.split_once("```").unwrap().0.to_owned()
}

/// A directory holding an `otpkit-server` that is `binary`, and a `PATH`
/// that finds it first.
pub fn server_on_path(dir: &Path, binary: &str) -> String {
    std::os::unix::fs::symlink(binary, dir.join("otpkit-server")).unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
