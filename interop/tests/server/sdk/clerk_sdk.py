"""Clerk's official Python backend SDK (`clerk-backend-api`, unchanged)
against a real otpkit-server, configured with nothing but the secret key
and the server URL: `users.verify_totp` returns only for a right TOTP or
backup code and raises a Clerk error (code, long message) for every other;
`delete_backup_codes`, `disable_mfa` and `delete_totp` answer `user_id`.
Enrollment (Clerk's frontend calls, under backend-style paths here) is
plain HTTP. Run by interop/tests/server/sdks.rs.
"""

import json
import os
import sys
import time
import urllib.request

import pyotp
from clerk_backend_api import Clerk, models

BASE = os.environ["OTPKIT_URL"]
KEY = os.environ["OTPKIT_API_KEY"]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        sys.exit(f"FAILED: {what}")
    checks += 1


def post(path, body=None):
    request = urllib.request.Request(
        f"{BASE}{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def enroll(user):
    """Creates and verifies a TOTP: its generator and the backup codes."""
    totp = pyotp.parse_uri(post(f"/v1/users/{user}/totp")["uri"])
    verified = post(f"/v1/users/{user}/totp/attempt_verification", {"code": totp.now()})
    return totp, verified["backup_codes"]


def refused(call, status):
    """The Clerk error a refused call raises, read with the SDK's model."""
    try:
        call()
    except models.SDKError as error:
        check(error.status_code == status, f"status {error.status_code}, expected {status}")
        data = models.ClerkErrorsData.model_validate_json(error.body)
    except models.ClerkErrors as error:
        check(error.raw_response.status_code == status, f"status, expected {status}")
        data = error.data
    else:
        sys.exit(f"FAILED: a call that must be refused returned (expected {status})")
    first = data.errors[0]
    check(first.code and first.message and first.long_message, f"a full Clerk error: {first}")
    return first


clerk = Clerk(bearer_auth=KEY, server_url=f"{BASE}/v1")
totp, backup = enroll("alice")

# A right TOTP code returns; the same code again is refused.
code = totp.at(time.time() + 30)
ok = clerk.users.verify_totp(user_id="alice", code=code)
check(ok.verified is True and ok.code_type == models.CodeType.TOTP, f"right code: {ok}")
error = refused(lambda: clerk.users.verify_totp(user_id="alice", code=code), 422)
check(error.code == "form_code_incorrect" and error.meta["reason"] == "replayed", "replayed")

# A backup code returns once.
ok = clerk.users.verify_totp(user_id="alice", code=backup[0])
check(ok.verified is True and ok.code_type == models.CodeType.BACKUP_CODE, "backup code")
error = refused(lambda: clerk.users.verify_totp(user_id="alice", code=backup[0]), 422)
check(error.meta["reason"] == "used", "used backup code")

# The backend is the caller: with no end user named (the SDK as it
# comes), a stranger meets the user's own budget and nothing else; three
# wrong codes leave the user's right code valid.
wrong = "000000" if code != "000000" else "111111"
totp_d, _ = enroll("dave")
for attempt in range(3):
    error = refused(lambda: clerk.users.verify_totp(user_id="dave", code=wrong), 422)
    check(error.code == "form_code_incorrect" and error.meta["reason"] == "invalid", "wrong code")
ok = clerk.users.verify_totp(user_id="dave", code=totp_d.at(time.time() + 30))
check(ok.verified is True, "three strangers' wrong codes leave the right code valid")

# With the end user named per call (`http_headers`; the server trusts
# this backend, --trusted-proxy): a stranger's address is throttled after
# three (429 too_many_requests, with Retry-After), before it could lock
# the user.
stranger = {"X-Forwarded-For": "198.51.100.7"}
for attempt in range(3):
    error = refused(
        lambda: clerk.users.verify_totp(user_id="alice", code=wrong, http_headers=stranger), 422
    )
    check(error.meta["reason"] == "invalid", "wrong code")
error = refused(
    lambda: clerk.users.verify_totp(user_id="alice", code=wrong, http_headers=stranger), 429
)
check(error.code == "too_many_requests", f"a named stranger's fourth wrong code: {error}")
# Unnamed calls go on counting against the user's budget until it locks
# (Clerk's user_locked)...
for attempt in range(3):
    error = refused(lambda: clerk.users.verify_totp(user_id="alice", code=wrong), 422)
    check(error.code == "form_code_incorrect" and error.meta["reason"] == "invalid", "wrong code")
check("locked_until" in error.meta, "six failures lock the user's TOTP")
user = {"X-Forwarded-For": "203.0.113.5"}
error = refused(
    lambda: clerk.users.verify_totp(user_id="alice", code=totp.now(), http_headers=user), 403
)
check(error.code == "user_locked", f"locked: {error}")
check(error.meta["lockout_expires_in_seconds"] > 0, "locked: for how long")
# ... and a TOTP lock leaves backup codes working.
ok = clerk.users.verify_totp(user_id="alice", code=backup[1], http_headers=user)
check(ok.verified is True and ok.code_type == models.CodeType.BACKUP_CODE, "backup code while the TOTP is locked")

# Unknown user; malformed input.
error = refused(lambda: clerk.users.verify_totp(user_id="nobody", code="123456"), 404)
check(error.code == "resource_not_found", "unknown user")
totp_b, backup_b = enroll("bob")
error = refused(lambda: clerk.users.verify_totp(user_id="bob", code="12"), 422)
check(error.code == "form_param_format_invalid", "malformed")

# Deleting: backup codes, then MFA, then TOTP; each answers user_id.
deleted = clerk.users.delete_backup_codes(user_id="bob")
check(deleted.user_id == "bob", "delete_backup_codes: user_id")
error = refused(lambda: clerk.users.verify_totp(user_id="bob", code=backup_b[1]), 422)
check(error.meta["reason"] == "malformed", "a deleted backup code is no code")
check(clerk.users.disable_mfa(user_id="bob").user_id == "bob", "disable_mfa: user_id")
check(clerk.users.disable_mfa(user_id="bob").user_id == "bob", "disable_mfa again: user_id")
error = refused(lambda: clerk.users.verify_totp(user_id="bob", code=totp_b.now()), 404)
check(error.code == "resource_not_found", "after disable_mfa: no TOTP")
enroll("carol")
check(clerk.users.delete_totp(user_id="carol").user_id == "carol", "delete_totp: user_id")
error = refused(lambda: clerk.users.delete_totp(user_id="carol"), 404)
check(error.code == "resource_not_found", "delete_totp again: 404")
error = refused(lambda: clerk.users.delete_backup_codes(user_id="carol"), 404)
check(error.code == "resource_not_found", "delete_backup_codes without TOTP: 404")

# A wrong key.
intruder = Clerk(bearer_auth="sk_test_not_the_key_0123", server_url=f"{BASE}/v1")
try:
    intruder.users.verify_totp(user_id="alice", code="123456")
    sys.exit("FAILED: a wrong key was let in")
except models.SDKError as error:
    check(error.status_code == 401, "wrong key: 401")

print(f"ok: {checks} checks")
