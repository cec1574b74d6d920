//! The server README's production quick start, run as it is written: its
//! shell snippet starts a production server on PostgreSQL (addresses and
//! the database URL replaced by the test's), then its Python snippet (the
//! official `clerk-backend-api`) and its JavaScript snippet (the official
//! `@clerk/backend`) enroll, confirm and sign users in against it, driven
//! by `quickstart/drive.py` and `drive.mjs`. A missing tool fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_support::{postgres, readme_snippet as snippet, server_on_path};
use crate::support::run;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_production_quick_start_runs_as_written() {
    let database = postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let path = server_on_path(dir.path(), crate::SERVER_BIN);
    let address = format!("127.0.0.1:{}", free_port());
    let script = snippet("quickstart.sh")
        .replace("postgres://otpkit@db.internal/otpkit", &database)
        .replace("10.0.0.5:8080", &address)
        .replace("10.0.1.0/24", "127.0.0.1")
        + "echo \"$!\" > server.pid\n";
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut shell = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("bash");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = shell.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the quick start hangs"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(status.success(), "{said}");
    let pid: i32 = std::fs::read_to_string(dir.path().join("server.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let server = Running(pid);
    let env_file = std::fs::read_to_string(dir.path().join("otpkit.env")).unwrap();
    let api_key = env_file
        .lines()
        .find_map(|line| line.strip_prefix("OTPKIT_API_KEY="))
        .unwrap()
        .to_owned();
    let url = format!("http://{address}");

    // Python: the snippet as a module, driven.
    std::fs::write(dir.path().join("quickstart.py"), snippet("quickstart.py")).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/server/quickstart/drive.py");
    let output = run(Command::new("python3")
        .arg(&driver)
        .current_dir(dir.path())
        .env("PYTHONPATH", dir.path())
        .env("OTPKIT_URL", &url)
        .env("OTPKIT_API_KEY", &api_key));
    assert!(output.contains("ok: quickstart.py"), "{output}");

    // JavaScript: beside the installed @clerk/backend, so `import` finds it.
    let modules: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/interop-node");
    assert!(
        modules
            .join("node_modules/@clerk/backend/package.json")
            .is_file(),
        "@clerk/backend is not installed in {}: `bash .ci/test` installs it (npm)",
        modules.display()
    );
    let js = tempfile::tempdir_in(&modules).unwrap();
    std::fs::write(js.path().join("quickstart.mjs"), snippet("quickstart.mjs")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/server/quickstart/drive.mjs"),
        js.path().join("drive.mjs"),
    )
    .unwrap();
    let output = run(Command::new("node")
        .arg(js.path().join("drive.mjs"))
        .env("OTPKIT_URL", &url)
        .env("OTPKIT_API_KEY", &api_key));
    assert!(output.contains("ok: quickstart.mjs"), "{output}");
    drop(server);
}

/// A server the quick start left running: SIGTERM when dropped.
struct Running(i32);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
}
