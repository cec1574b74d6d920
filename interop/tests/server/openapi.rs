//! schemathesis (PyPI) against the server's own OpenAPI document and a real
//! server in production mode: it generates requests for every operation
//! (valid and not, and sequences along the document's links) and checks
//! that none is answered with a 5xx and every answer conforms to the
//! document: its status, content type, headers and body schema.

use std::process::Command;

use crate::server_support::{API_KEY, Server, sqlite};
use crate::support::run;

#[test]
fn schemathesis_finds_no_5xx_and_every_answer_matches_the_document() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &[]);
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
