/** JwtProvider: claims to identity, and the verified-token cache in front of jose. */
import t from 'tap';
import { JwtProvider, TokenCache } from '../../../../../src/worker/policies/auth/index.js';
import { provider, signingKey, token } from '../../../../helpers/auth.js';

t.test('a verified token is served from the cache until its exp, then verified again', async (t) => {
  const k1 = await signingKey('k1');
  const clock = { now: Date.now() };
  const cache = new TokenCache(10, { now: () => clock.now });
  const p = new JwtProvider(provider({ keys: [k1.jwk] }), { jwks: null, cache });
  const exp = Math.floor(clock.now / 1000) + 60;
  const tok = await token(k1, { sub: 'carol', exp, scope: 'a b', realm_access: { roles: ['r1', 7, 'r2'] } });
  t.equal(p.cached(tok), null, 'not before it was verified');
  const id = await p.verify(tok);
  t.same(id, { method: 'jwt:idp', subject: 'carol', roles: ['r1', 'r2'], scopes: ['a', 'b'], keyId: null, rateLimit: null }, 'non-string roles are ignored');
  t.same(p.cached(tok), id, 'then served from the cache');
  t.equal(p.cached(`${tok}x`), null, 'only for exactly that token');
  clock.now = exp * 1000;
  t.equal(p.cached(tok), null, 'never at or past exp');
});

t.test('a token without a usable subject is refused', async (t) => {
  const k1 = await signingKey('k1');
  const p = new JwtProvider(provider({ keys: [k1.jwk] }), { jwks: null, cache: new TokenCache(0) });
  await t.rejects(p.verify(await token(k1, { sub: undefined })), { message: /subject/ });
  await t.rejects(p.verify(await token(k1, { sub: 'a\nb' })), { message: /subject/ });
  t.equal((await p.verify(await token(k1, { sub: 'José Ñ' }))).subject, 'José Ñ', 'non-ASCII subjects are fine (encoded in the header)');
});

t.test('audiences: a list is enforced, only an explicit "any" skips the aud check, an empty list matches nothing', async (t) => {
  const k1 = await signingKey('k1');
  const make = (audiences: readonly string[] | 'any') => new JwtProvider(provider({ keys: [k1.jwk], audiences }), { jwks: null, cache: new TokenCache(0) });
  const listed = make(['api', 'admin-api']);
  t.equal((await listed.verify(await token(k1, { aud: 'admin-api' }))).subject, 'alice', 'any one listed audience passes');
  await t.rejects(listed.verify(await token(k1, { aud: 'other' })), { message: /claim "aud"/ });
  await t.rejects(listed.verify(await token(k1, { aud: undefined })), { message: /claim "aud"/ }, 'no aud at all is refused');
  const any = make('any');
  t.equal((await any.verify(await token(k1, { aud: 'other' }))).subject, 'alice');
  t.equal((await any.verify(await token(k1, { aud: undefined }))).subject, 'alice');
  await t.rejects(make([]).verify(await token(k1)), { message: /claim "aud"/ }, 'an empty list fails closed');
});
