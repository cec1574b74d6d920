"""Drives the server README's quickstart.py (imported as it is written
there) against a real server: enrollment, the first code, sign-in by code
and by backup code, and the reasons of refusals. Run by quickstart.rs."""

import sys
import time

import pyotp

import quickstart

user = "quickstart-py"
created = quickstart.enroll(user)
totp = pyotp.parse_uri(created["uri"])
assert created["secret"] == totp.secret, created
backup = quickstart.confirm(user, totp.now())
assert backup and len(backup) == 10, backup
code = totp.at(time.time() + 30)
assert quickstart.sign_in(user, code, "203.0.113.5") == (True, None)
assert quickstart.sign_in(user, code, "203.0.113.5") == (False, "replayed")
wrong = "000000" if code != "000000" else "111111"
assert quickstart.sign_in(user, wrong, "203.0.113.5") == (False, "invalid")
assert quickstart.sign_in(user, "12", "203.0.113.5") == (False, "malformed")
assert quickstart.sign_in(user, backup[0], "203.0.113.5") == (True, None)
assert quickstart.sign_in(user, backup[0], "203.0.113.5") == (False, "used")
# A stranger named by address: three wrong codes, then refused for good
# (a long Retry-After is not retried).
for _ in range(3):
    assert quickstart.sign_in(user, wrong, "198.51.100.7") == (False, "invalid")
started = time.time()
verdict = quickstart.sign_in(user, wrong, "198.51.100.7")
assert verdict == (False, "too_many_requests"), verdict
assert time.time() - started < 5, "a throttled end user is not retried"
print("ok: quickstart.py")
sys.exit(0)
