//! Agreement with implementations we did not write: oathtool (OATH Toolkit,
//! C) and pyotp (Python), on many random keys, times, periods, T0s and digit
//! counts. `.ci/test` installs both.

use std::process::Command;

use crate::support::run;

use otpkit::{Algorithm, Hotp, Secret, Totp};

/// SplitMix64: reproducible cases without a dependency.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn key(&mut self) -> Vec<u8> {
        let len = 16 + self.below(49) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn algorithm(&mut self) -> Algorithm {
        [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][self.below(3) as usize]
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn totp_agrees_with_oathtool() {
    let mut cases = Cases(1);
    for _ in 0..150 {
        let key = cases.key();
        let algorithm = cases.algorithm();
        let digits = 6 + cases.below(3) as u8; // oathtool supports 6 to 8
        let period = 1 + cases.below(120);
        let t0 = cases.below(1_000_000);
        let time = t0 + cases.below(4_000_000_000);
        let totp = Totp::builder(Secret::from_bytes(&key).unwrap())
            .algorithm(algorithm)
            .digits(digits)
            .period(period)
            .t0(t0)
            .build()
            .unwrap();
        let theirs = run(Command::new("oathtool")
            .arg(format!("--totp={}", algorithm.as_str().to_lowercase()))
            .arg(format!("--digits={digits}"))
            .arg(format!("--time-step-size={period}s"))
            .arg(format!("--start-time=@{t0}"))
            .arg(format!("--now=@{time}"))
            .arg(hex(&key)));
        assert_eq!(
            totp.generate_at(time).unwrap().to_string(),
            theirs.trim(),
            "{algorithm} digits={digits} period={period} t0={t0} time={time}"
        );
    }
}

#[test]
fn hotp_agrees_with_oathtool() {
    let mut cases = Cases(2);
    for _ in 0..100 {
        let key = cases.key();
        let digits = 6 + cases.below(3) as u8;
        let counter = cases.next() >> cases.below(64);
        let hotp = Hotp::with(Secret::from_bytes(&key).unwrap(), Algorithm::Sha1, digits).unwrap();
        let theirs = run(Command::new("oathtool")
            .arg("--hotp")
            .arg(format!("--digits={digits}"))
            .arg(format!("--counter={counter}"))
            .arg(hex(&key)));
        assert_eq!(
            hotp.generate(counter).to_string(),
            theirs.trim(),
            "counter={counter}"
        );
    }
}

/// pyotp covers what oathtool does not: 9 and 10 digits, SHA-2 HOTP, and
/// Base32 input.
#[test]
fn agrees_with_pyotp_on_all_digit_counts() {
    let mut cases = Cases(3);
    let mut lines = Vec::new();
    let mut ours = Vec::new();
    for i in 0..300 {
        let secret = Secret::from_bytes(&cases.key()).unwrap();
        let algorithm = cases.algorithm();
        let digits = 6 + cases.below(5) as u8;
        let b32 = secret.to_base32().to_string();
        if i % 2 == 0 {
            let period = 1 + cases.below(120);
            let time = cases.below(1 << 34);
            let totp = Totp::builder(secret)
                .algorithm(algorithm)
                .digits(digits)
                .period(period)
                .build()
                .unwrap();
            lines.push(format!("totp {b32} {algorithm} {digits} {period} {time}"));
            ours.push(totp.generate_at(time).unwrap().to_string());
        } else {
            let counter = cases.next() >> cases.below(64);
            let hotp = Hotp::with(secret, algorithm, digits).unwrap();
            lines.push(format!("hotp {b32} {algorithm} {digits} 0 {counter}"));
            ours.push(hotp.generate(counter).to_string());
        }
    }
    let script = r#"
import hashlib, sys, pyotp
for line in sys.argv[1].splitlines():
    kind, secret, alg, digits, period, n = line.split()
    digest = getattr(hashlib, alg.lower())
    if kind == "totp":
        print(pyotp.TOTP(secret, digits=int(digits), digest=digest, interval=int(period)).at(int(n)))
    else:
        print(pyotp.HOTP(secret, digits=int(digits), digest=digest).at(int(n)))
"#;
    let theirs = run(Command::new("python3").args(["-c", script, &lines.join("\n")]));
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(theirs.len(), ours.len());
    for ((line, ours), theirs) in lines.iter().zip(&ours).zip(theirs) {
        assert_eq!(ours, theirs, "{line}");
    }
}
