//! schemathesis (PyPI) against the server's own OpenAPI document and a real
//! server in production mode: it generates requests for every operation
//! (valid and not, and sequences along the document's links) and checks
//! that none is answered with a 5xx and every answer conforms to the
//! document: its status, content type, headers and body schema.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Command;

use crate::server_support::{API_KEY, Server, sqlite};
use crate::support::run;

#[test]
fn schemathesis_finds_no_5xx_and_every_answer_matches_the_document() {
    let (_dir, db) = sqlite();
    // Production mode sends codes through a webhook: one on loopback that
    // takes every message.
    let url = webhook_taking_everything();
    let mut command = Server::command(&db, &["--sms-webhook", &url]);
    command.env(
        "OTPKIT_SMS_WEBHOOK_KEY",
        "a webhook key of at least sixteen bytes",
    );
    let server = Server::spawn(command, &db);
    let output = run(Command::new("schemathesis")
        .args(["run", &format!("{}/openapi.json", server.base)])
        .args(["--header", &format!("x-api-key: {API_KEY}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
        ])
        .args(["--max-examples", "50", "--seed", "20261202"])
        .env("NO_COLOR", "1"));
    // `N generated, N passed`: every generated request passed every check.
    let tally = output
        .lines()
        .find(|line| line.contains(" generated, "))
        .unwrap_or_else(|| panic!("schemathesis printed no tally:\n{output}"));
    let numbers: Vec<u64> = tally
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        numbers.len() == 2 && numbers[0] == numbers[1] && numbers[0] >= 500,
        "{tally}\n{output}"
    );
    println!("schemathesis: {}", tally.trim());
    assert!(!server.log().contains("ERROR"), "{}", server.log());
    server.stop();
}

/// An HTTP receiver on 127.0.0.1 answering every request 204 (after
/// reading it whole); its URL.
fn webhook_taking_everything() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    url
}
