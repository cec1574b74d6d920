"""Ding's official Python SDK (`ding_api_client`, unchanged) against a real
otpkit-server: configured with nothing but the API key and the server URL.
Every OTP call the SDK offers, right and wrong inputs, and its errors; the
answers must parse as the SDK declares them (its enums, its datetimes, its
error model). Run by interop/tests/server/sdks.rs; exits non-zero with the
failed check on stderr.
"""

import datetime
import json
import os
import re
import sys
import time
import urllib.request

from ding import Ding
from ding.models import components, errors

BASE = os.environ["OTPKIT_URL"]
KEY = os.environ["OTPKIT_API_KEY"]
CUSTOMER = os.environ["OTPKIT_CUSTOMER"]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        sys.exit(f"FAILED: {what}")
    checks += 1


def last_code(phone):
    """The code the dev outbox holds for `phone` (plain HTTP: not an SDK call)."""
    request = urllib.request.Request(
        f"{BASE}/dev/outbox?phone_number={urllib.parse.quote(phone)}",
        headers={"x-api-key": KEY},
    )
    with urllib.request.urlopen(request) as response:
        messages = json.load(response)["messages"]
    return re.search(r"\d{6}", messages[-1]["body"]).group(0)


def raises(call, kind):
    try:
        call()
    except kind as error:
        return error
    sys.exit(f"FAILED: expected {kind.__name__}")


ding = Ding(api_key=KEY, server_url=f"{BASE}/v1")
phone = "+14155550123"

# Send: pending, with created/expiry times the SDK parses as datetimes.
res = ding.otp.create_authentication(
    components.CreateAuthenticationRequest(customer_uuid=CUSTOMER, phone_number=phone)
)
created = res.create_authentication_response
check(res.status_code == 200, "create: 200")
check(created.status == components.createauthenticationresponse.Status.PENDING, "create: pending")
check(isinstance(created.created_at, datetime.datetime), "create: created_at is a datetime")
check(created.expires_at - created.created_at == datetime.timedelta(seconds=600), "create: 10 minutes")
auth = created.authentication_uuid
code = last_code(phone)


def check_code(value, uuid=auth):
    return ding.otp.check(
        components.CreateCheckRequest(customer_uuid=CUSTOMER, authentication_uuid=uuid, check_code=value)
    )


def retry(uuid=auth):
    return ding.otp.retry(
        components.RetryAuthenticationRequest(customer_uuid=CUSTOMER, authentication_uuid=uuid)
    ).retry_authentication_response


wrong = "111111" if code == "000000" else "000000"
answer = check_code(wrong).create_check_response
check(answer.status == components.CheckStatus.INVALID, "check wrong: invalid")
check(answer.authentication_uuid == auth, "check: its authentication")

# Retry inside the cool-down: rate limited, with when and how many are left.
early = retry()
Status = components.RetryAuthenticationResponseStatus
check(early.status == Status.RATE_LIMITED, "retry early: rate_limited")
check(early.remaining_retry == 3, "retry early: 3 left")
check(early.next_retry_at - created.created_at == datetime.timedelta(seconds=30), "retry early: at +30 s")

# A malformed code is Ding's 400 error, not a status; nothing is counted.
error = raises(lambda: check_code("12"), errors.ErrorResponse)
check(error.code == errors.Code.BAD_REQUEST and error.message, "malformed code: bad_request")

# The status: the number and its events (one send, one counted check).
status = ding.otp.get_authentication_status(auth_uuid=auth).authentication_status_response
check(status.uuid == auth and status.phone_number == phone, "status: uuid and number")
check(isinstance(status.created_at, datetime.datetime), "status: created_at")
kinds = [event.type for event in status.events]
check(len(kinds) == 2, f"status: two events, got {status.events}")

# After the cool-down a retry sends a new code.
time.sleep(31)
sent = retry()
check(sent.status == Status.APPROVED and sent.remaining_retry == 2, "retry: approved, 2 left")
code = last_code(phone)
check(check_code(code).create_check_response.status == components.CheckStatus.VALID, "check right: valid")
again = check_code(code).create_check_response.status
check(again == components.CheckStatus.ALREADY_VALIDATED, "check again: already_validated")
after = retry()
check(after.status == Status.ALREADY_VALIDATED, "retry after success: already_validated")
check(after.next_retry_at is None and after.remaining_retry is None, "retry after success: no retry fields")

# Attempts running out: four wrong answers, then rate limited; no retry then.
spent = ding.otp.create_authentication(
    components.CreateAuthenticationRequest(customer_uuid=CUSTOMER, phone_number="+14155550124")
).create_authentication_response.authentication_uuid
statuses = [check_code(wrong, spent).create_check_response.status for _ in range(6)]
check(statuses[:4] == [components.CheckStatus.INVALID] * 4, f"spent: four invalid, {statuses}")
check(statuses[4:] == [components.CheckStatus.RATE_LIMITED] * 2, f"spent: then rate_limited, {statuses}")
check(retry(spent).status == Status.DENIED, "retry after the attempts ran out: denied")

# Feedback, once per status.
feedback = components.FeedbackRequest(
    customer_uuid=CUSTOMER, phone_number=phone, status=components.FeedbackRequestStatus.ONBOARDED
)
check(ding.otp.feedback(feedback).feedback_response.uuid, "feedback: a uuid")
error = raises(lambda: ding.otp.feedback(feedback), errors.ErrorResponse)
check(error.code == errors.Code.DUPLICATED_FEEDBACK_STATUS, "feedback again: duplicated")

# Errors: a bad number, an unknown authentication, a wrong key.
error = raises(
    lambda: ding.otp.create_authentication(
        components.CreateAuthenticationRequest(customer_uuid=CUSTOMER, phone_number="555")
    ),
    errors.ErrorResponse,
)
check(error.code == errors.Code.INVALID_PHONE_NUMBER and error.message, "bad number: invalid_phone_number")
unknown = "e0e7b0e9-739d-424b-922f-1c2cb48ab077"
error = raises(lambda: check_code("123456", unknown), errors.ErrorResponse)
check(error.code == errors.Code.NO_ASSOCIATED_AUTH_FOUND, "unknown authentication: no_associated_auth_found")
error = raises(lambda: ding.otp.get_authentication_status(auth_uuid=unknown), errors.ErrorResponse)
check(error.code == errors.Code.NO_ASSOCIATED_AUTH_FOUND, "status of an unknown one")
intruder = Ding(api_key="not-the-key-0123456789", server_url=f"{BASE}/v1")
error = raises(
    lambda: intruder.otp.create_authentication(
        components.CreateAuthenticationRequest(customer_uuid=CUSTOMER, phone_number=phone)
    ),
    errors.SDKError,
)
check(error.status_code == 401, "wrong key: 401")

print(f"ok: {checks} checks")
