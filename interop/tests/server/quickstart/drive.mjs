// Drives the server README's quickstart.mjs (imported as it is written
// there) against a real server. Run by quickstart.rs.
import { createHmac } from 'node:crypto';
import { enroll, confirm, signIn } from './quickstart.mjs';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, unix) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unix / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[19] & 15;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
}

const user = 'quickstart-js';
const { secret } = await enroll(user);
const backup = await confirm(user, totp(secret, Date.now() / 1000));
check(backup && backup.length === 10, `backup codes: ${backup}`);
const code = totp(secret, Date.now() / 1000 + 30);
check((await signIn(user, code)).ok, 'right code');
const replayed = await signIn(user, code);
check(!replayed.ok && replayed.code === 'form_code_incorrect', `replayed: ${JSON.stringify(replayed)}`);
check((await signIn(user, backup[0])).ok, 'backup code');
const wrong = code === '000000' ? '111111' : '000000';
for (let i = 0; i < 6; i += 1) await signIn(user, wrong);
const locked = await signIn(user, totp(secret, Date.now() / 1000));
check(!locked.ok && locked.code === 'user_locked', `locked: ${JSON.stringify(locked)}`);
check((await signIn(user, backup[1])).ok, 'a backup code while the TOTP is locked');
console.log('ok: quickstart.mjs');
