//! A real browser: headless Chromium through WebDriver (chromedriver)
//! enrolls on the `--dev` demo pages. The QR code is decoded from a
//! screenshot, the code computed from what it decoded to, and the forms
//! are submitted with the keyboard (Enter), as a person without a mouse
//! would. Screenshots are kept under `target/test-artifacts/browser/`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_support::{Server, artifacts_dir, code_at, sqlite};
use fantoccini::{Client, ClientBuilder, Locator};
use otpkit::OtpAuthUri;
use serde_json::json;

const ENTER: &str = "\u{E007}";

/// chromedriver on a free loopback port; killed when dropped.
struct Driver(Child, u16);

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            // Its own process group, so the browsers it starts go with it.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; .ci/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child, port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any Chromium left running.
        if let Some(group) = i32::try_from(self.0.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.0.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=900,1400"] }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a WebDriver session")
}

/// Every QR code rqrr finds in a PNG screenshot.
fn decode_qr(screenshot: &[u8]) -> Vec<String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(screenshot));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let pixel = &buf[(y * width + x) * channels..][..channels.min(3)];
        (pixel.iter().map(|&c| u32::from(c)).sum::<u32>() / pixel.len() as u32) as u8
    });
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

async fn snapshot(client: &Client, name: &str) -> Vec<u8> {
    let png = client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir("browser").join(name), &png).unwrap();
    png
}

/// Types `text` into `field` and presses Enter, then waits until the
/// browser has left the page (the field's element goes stale), so the
/// next lookup reads the new page.
async fn type_and_enter(client: &Client, field: &str, text: &str) {
    let input = client.find(Locator::Id(field)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(&format!("{text}{ENTER}")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while input.attr("id").await.is_ok() {
        assert!(Instant::now() < deadline, "the form was not submitted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The outcome the sign-in page reports, once the new page is there.
async fn outcome(client: &Client) -> String {
    let result = client
        .wait()
        .for_element(Locator::Id("result"))
        .await
        .unwrap();
    result.attr("data-outcome").await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn enroll_scan_verify_and_sign_in_in_chromium() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let driver = Driver::start();
    let client = browser(&driver).await;

    client.goto(&format!("{}/demo", server.base)).await.unwrap();
    type_and_enter(&client, "user_id", "browser-user").await;
    client.wait().for_element(Locator::Id("qr")).await.unwrap();
    let screenshot = snapshot(&client, "1-enroll.png").await;

    // The QR code, as the screen shows it, is the exact otpauth:// URI.
    let decoded = decode_qr(&screenshot);
    let link = client
        .find(Locator::Id("uri"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decoded, vec![link.clone()], "decoded from the screenshot");
    println!("decoded from the screenshot: {}", decoded[0]);
    let uri: OtpAuthUri = decoded[0].parse().unwrap();
    assert_eq!(
        (uri.issuer(), uri.account()),
        // The demo's own namespace: no API user is reachable from it.
        (Some("otpkit demo"), "browser-user (demo)")
    );
    let key = client
        .find(Locator::Id("key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(key.replace(' ', ""), uri.secret().to_base32().as_str());

    // The first code verifies; the backup codes are shown once.
    type_and_enter(&client, "code", &code_at(&uri, 0)).await;
    assert_eq!(outcome(&client).await, "verified");
    snapshot(&client, "2-backup-codes.png").await;
    let mut backup = Vec::new();
    for element in client.find_all(Locator::Css(".backup-code")).await.unwrap() {
        backup.push(element.text().await.unwrap());
    }
    assert_eq!(backup.len(), 10);

    // Sign in with a fresh code; its replay is refused.
    client
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("code"))
        .await
        .unwrap();
    let next = code_at(&uri, 1);
    type_and_enter(&client, "code", &next).await;
    assert_eq!(outcome(&client).await, "valid");
    snapshot(&client, "3-signed-in.png").await;
    type_and_enter(&client, "code", &next).await;
    assert_eq!(outcome(&client).await, "replayed");
    snapshot(&client, "4-replay-refused.png").await;

    // A backup code works once.
    type_and_enter(&client, "code", &backup[0]).await;
    assert_eq!(outcome(&client).await, "valid");
    type_and_enter(&client, "code", &backup[0]).await;
    assert_eq!(outcome(&client).await, "used");
    snapshot(&client, "5-backup-code-used.png").await;

    client.close().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_forms_refuse_cross_site_posts() {
    let (_dir, db) = sqlite();
    let server = Server::start(&db);
    let http = reqwest::Client::new();
    // No cookie (another site's form): refused, nothing enrolled.
    let response = http
        .post(format!("{}/demo/enroll", server.base))
        .form(&[("csrf", "guess"), ("user_id", "victim")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    // A cookie, but a token that does not match it: refused.
    let response = http
        .post(format!("{}/demo/enroll", server.base))
        .header("cookie", "otpkit_demo_csrf=abc")
        .form(&[("csrf", "abd"), ("user_id", "victim")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);
    let (status, _) = server.client().get("/v1/users/victim/totp").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    // A sign-in page without a user: a page that says so, not plain text.
    let response = http
        .get(format!("{}/demo/sign-in", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<p id=\"error\">which user?")
    );
    // The page sets the cookie SameSite=Strict and HttpOnly.
    let page = http
        .get(format!("{}/demo", server.base))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
