import { REDACTED } from '../../../src/protocol/constants.js';
import { STRICT_URL_POLICY, redactUrl, redactUrlDetailed, type UrlSecretPolicy } from '../../../src/protocol/redact-url.js';

describe('redactUrl (the one URL redactor)', () => {
  it('strict policy: drops userinfo, masks every parameter value, keeps host, path and names', () => {
    const r = redactUrlDetailed('postgres://u:CANARY-pw@db:5432/x?password=CANARY-q&sslmode=require', STRICT_URL_POLICY);
    expect(r.url).toBe(`postgres://db:5432/x?password=${REDACTED}&sslmode=${REDACTED}`);
    expect(r.hits).toEqual([
      { kind: 'url-credentials', field: 'url.userinfo' },
      { kind: 'url-credentials', field: 'url.query.password' },
      { kind: 'url-credentials', field: 'url.query.sslmode' },
    ]);
  });

  it('keeps a URL without secrets byte for byte, and an empty string empty', () => {
    expect(redactUrl('postgres://db:5432/x')).toBe('postgres://db:5432/x');
    expect(redactUrl('HTTPS://Example.COM/a//b/')).toBe('HTTPS://Example.COM/a//b/');
    expect(redactUrl('')).toBe('');
  });

  it('replaces text that is not a URL as the policy says (strict: whole)', () => {
    expect(redactUrl('not a url with CANARY')).toBe(REDACTED);
  });

  it('asks the policy about path segments, matrix parameters and fragments; marks userinfo on request', () => {
    const policy: UrlSecretPolicy = {
      ...STRICT_URL_POLICY,
      value: (v) => (v.startsWith('tok_') ? 'token' : null),
      param: (name) => (name === 'key' ? 'api-key' : null),
      text: (t) => ({ text: t, kinds: [] }),
    };
    const r = redactUrlDetailed('https://alice:pw@h/tok_1;key=v;x=y/p?a=1;key=z#key=q', policy, { keepUserinfoMarker: true });
    expect(r.url).toBe(`https://${REDACTED}@h/${REDACTED};key=${REDACTED};x=y/p?a=1;key=${REDACTED}`);
    expect(r.hits.map((h) => h.field)).toEqual(['url.userinfo', 'url.path', 'url.path.key', 'url.query.key', 'url.fragment']);
  });

  it('never throws on malformed percent-encoding', () => {
    expect(redactUrl('https://h/%E0%A4%A?x=%ZZ')).toBe(`https://h/%E0%A4%A?x=${REDACTED}`);
  });
});
