//! PostgreSQL crashed under load (an immediate stop: every connection cut,
//! no checkpoint) and back three seconds later: `/readyz` says 503 within
//! 2 s of the crash and 200 once it is back; every request sent after its
//! return is answered normally (no 5xx; the batch writer's dead connection
//! is replaced, the batch retried once), and what was committed before the
//! crash holds (a used backup code stays used).
//!
//! The crash needs a cluster of its own (the shared one serves the other
//! tests in parallel): started here in a temp dir, as the `postgres` user
//! when run as root, on a free loopback port, and removed at the end.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::server_support::{Server, code_at, verdict, wrong_code};

/// A throwaway PostgreSQL cluster that can be crashed and started again.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                let mut bins: Vec<PathBuf> = versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .filter(|bin| bin.join("initdb").exists())
                    .collect();
                bins.sort();
                bins.pop()
            })
            .expect("PostgreSQL's initdb (Debian: apt-get install postgresql; bash .ci/test does)");
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::Builder::new()
            .prefix("otpkit-pg-crash")
            .tempdir()
            .unwrap();
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chown.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-U", "otpkit", "--auth=trust", "-E", "UTF8"],
        );
        cluster.pg_ctl_start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://otpkit@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// An immediate stop: a crash (connections cut, recovery at the next
    /// start).
    fn crash(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_crashed_under_load_and_back_costs_requests_only_while_it_is_down() {
    let cluster = Cluster::start();
    let db = cluster.url();
    // Two instances: each has a batch writer whose connection the crash
    // cuts.
    let servers: Vec<Server> = (0..2).map(|_| Server::start_with(&db, &[])).collect();
    let api = servers[0].client();
    let (uri, backup) = api.enroll_verified("alice").await;
    let (status, body) = api
        .post("/v1/users/alice/verify_totp", json!({ "code": backup[0] }))
        .await;
    assert_eq!(verdict(status, &body)["code_type"], json!("backup_code"));
    let mut users = Vec::new();
    for n in 0..8 {
        let user = format!("load-{n}");
        let (uri, _) = api.enroll_verified(&user).await;
        users.push((user, wrong_code(&uri)));
    }

    // Load: wrong codes (each a write) from 8 clients over both
    // instances, until stopped; every answer with when it was sent.
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (n, (user, wrong)) in users.into_iter().enumerate() {
        let client = servers[n % 2].client();
        let stop = Arc::clone(&stop);
        load.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let (status, body) = client
                    .post(
                        &format!("/v1/users/{user}/verify_totp"),
                        json!({ "code": wrong }),
                    )
                    .await;
                answers.push((sent, status.as_u16(), body));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready = |server: &Server| {
        let client = server.client();
        async move { client.get("/readyz").await.0.as_u16() }
    };
    assert_eq!(ready(&servers[1]).await, 200);
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.crash();
        cluster
    })
    .await
    .unwrap();
    let crashed = Instant::now();
    // Each instance says it is not ready within 2 s of the crash.
    for server in &servers {
        while ready(server).await != 503 {
            assert!(crashed.elapsed() < Duration::from_secs(2), "still ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(crashed.elapsed() < Duration::from_secs(3));
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(crashed.elapsed())).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl_start();
        cluster
    })
    .await
    .unwrap();
    let back = Instant::now();
    // Ready again once it is back (the writer's next batch, or a probe).
    for server in &servers {
        while ready(server).await != 200 {
            assert!(back.elapsed() < Duration::from_secs(10), "not ready again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let mut after = 0;
    for task in load {
        for (sent, status, body) in task.await.unwrap() {
            if sent > back {
                after += 1;
                assert!(status < 500, "sent after the return: {status} {body}");
            }
        }
    }
    assert!(after > 50, "only {after} requests after the return");
    // Committed before the crash: the backup code stays used; and the
    // user signs in.
    let (status, body) = api
        .post("/v1/users/alice/verify_totp", json!({ "code": backup[0] }))
        .await;
    assert_eq!(verdict(status, &body)["reason"], json!("used"), "{body}");
    let (status, body) = api
        .post(
            "/v1/users/alice/verify_totp",
            json!({ "code": code_at(&uri, 1) }),
        )
        .await;
    assert_eq!(verdict(status, &body)["verified"], json!(true), "{body}");
    for server in servers {
        server.stop();
    }
    drop(cluster);
}
