// Clerk's official JavaScript backend SDK (`@clerk/backend`, unchanged)
// against a real otpkit-server, configured with nothing but the secret key
// and the API URL: `users.verifyTOTP` resolves only for a right TOTP or
// backup code and rejects with a ClerkAPIResponseError (code, longMessage,
// meta) for every other; deleteUserBackupCodes, disableUserMFA and
// deleteUserTOTP resolve to `{ user_id }`. Enrollment is plain HTTP; TOTP
// codes are computed here (RFC 6238, node:crypto). Run by
// interop/tests/server/sdks.rs with OTPKIT_NODE_MODULES naming where
// `.ci/test` installed the SDK.

import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.env.OTPKIT_NODE_MODULES, 'resolve-from-here.js'));
const { createClerkClient } = require('@clerk/backend');
const { isClerkAPIResponseError } = require('@clerk/backend/errors');

const BASE = process.env.OTPKIT_URL;
const KEY = process.env.OTPKIT_API_KEY;
let checks = 0;

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` at `unix`. */
function totp(secret, unix) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unix / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 1_000_000).padStart(6, '0');
}

async function post(path, body = {}) {
  const response = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  check(response.ok, `${path}: ${response.status}`);
  return response.json();
}

async function enroll(user) {
  const { secret } = await post(`/v1/users/${user}/totp`);
  const now = Date.now() / 1000;
  const verified = await post(`/v1/users/${user}/totp/attempt_verification`, { code: totp(secret, now) });
  return { secret, backup: verified.backup_codes };
}

/** The Clerk error a refused call rejects with (its first error; the
 * `retryAfter` of the response). The SDK keeps only the `meta` keys
 * Clerk defines (`paramName`, ...), so refusals differ here by code and
 * long message, and a lock's duration comes as `Retry-After`. */
async function refused(promise, status) {
  try {
    await promise;
  } catch (error) {
    check(isClerkAPIResponseError(error), `a ClerkAPIResponseError: ${error}`);
    check(error.status === status, `status ${error.status}, expected ${status}`);
    const [first] = error.errors;
    check(first.code && first.message && first.longMessage, `a full Clerk error: ${JSON.stringify(first)}`);
    const { code, message, longMessage, meta } = first;
    return { code, message, longMessage, meta, retryAfter: error.retryAfter };
  }
  check(false, `a call that must be refused resolved (expected ${status})`);
}

const clerk = createClerkClient({ secretKey: KEY, apiUrl: BASE });
const alice = await enroll('alice');

const next = totp(alice.secret, Date.now() / 1000 + 30);
const ok = await clerk.users.verifyTOTP({ userId: 'alice', code: next });
check(ok.verified === true && ok.code_type === 'totp', `right code: ${JSON.stringify(ok)}`);
let error = await refused(clerk.users.verifyTOTP({ userId: 'alice', code: next }), 422);
check(error.code === 'form_code_incorrect' && error.meta.paramName === 'code', `replayed: ${JSON.stringify(error)}`);
check(error.longMessage.includes('used already'), 'replayed: the long message says so');

const backup = await clerk.users.verifyTOTP({ userId: 'alice', code: alice.backup[0] });
check(backup.verified === true && backup.code_type === 'backup_code', 'backup code');
error = await refused(clerk.users.verifyTOTP({ userId: 'alice', code: alice.backup[0] }), 422);
check(error.code === 'form_code_incorrect' && error.longMessage.includes('backup code'), 'used backup code');

const wrong = next === '000000' ? '111111' : '000000';
// Wrong codes are refused until the user locks (the sixth locks; the
// replays and the used backup code above were not counted).
for (let i = 0; i < 6; i += 1) {
  error = await refused(clerk.users.verifyTOTP({ userId: 'alice', code: wrong }), 422);
  check(error.code === 'form_code_incorrect' && error.longMessage.includes('wrong'), 'wrong code');
}
error = await refused(clerk.users.verifyTOTP({ userId: 'alice', code: totp(alice.secret, Date.now() / 1000) }), 403);
check(error.code === 'user_locked', `locked: ${JSON.stringify(error)}`);
check(error.retryAfter > 0, `locked: Retry-After ${error.retryAfter}`);

error = await refused(clerk.users.verifyTOTP({ userId: 'nobody', code: '123456' }), 404);
check(error.code === 'resource_not_found', 'unknown user');

const bob = await enroll('bob');
error = await refused(clerk.users.verifyTOTP({ userId: 'bob', code: '12' }), 422);
check(error.code === 'form_param_format_invalid' && error.meta.paramName === 'code', 'malformed');
let deleted = await clerk.users.deleteUserBackupCodes('bob');
check(deleted.user_id === 'bob', `deleteUserBackupCodes: ${JSON.stringify(deleted)}`);
deleted = await clerk.users.disableUserMFA('bob');
check(deleted.user_id === 'bob', `disableUserMFA: ${JSON.stringify(deleted)}`);
error = await refused(clerk.users.verifyTOTP({ userId: 'bob', code: totp(bob.secret, Date.now() / 1000) }), 404);
check(error.code === 'resource_not_found', 'after disableUserMFA: no TOTP');

await enroll('carol');
deleted = await clerk.users.deleteUserTOTP('carol');
check(deleted.user_id === 'carol', `deleteUserTOTP: ${JSON.stringify(deleted)}`);
error = await refused(clerk.users.deleteUserTOTP('carol'), 404);
check(error.code === 'resource_not_found', 'deleteUserTOTP again');

const intruder = createClerkClient({ secretKey: 'sk_test_not_the_key_0123', apiUrl: BASE });
error = await refused(intruder.users.verifyTOTP({ userId: 'alice', code: '123456' }), 401);
check(error.code === 'unauthorized', 'wrong key');

console.log(`ok: ${checks} checks`);
