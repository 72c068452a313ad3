import { createUserNameResolver, parsePasswd } from '../../../src/collect/user-names.js';

describe('user names', () => {
  it('parses passwd lines, first name per uid, skipping comments and junk', () => {
    const map = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/x:/bin/sh\nbad line\n');
    expect([...map]).toEqual([[0, 'root'], [1000, 'alice']]);
  });

  it('resolves from the file, re-reads it at most once a minute for unknown uids, and falls back to uid:N', () => {
    let reads = 0;
    let now = 0;
    let text = 'root:x:0:0::/root:/bin/sh\n';
    const resolve = createUserNameResolver({ readText: () => (reads++, text), now: () => now, homeRoots: [] });
    expect(resolve(0)).toBe('root');
    expect(resolve(null)).toBeNull();
    expect(resolve(4242)).toBe('uid:4242');
    expect(reads).toBe(1);
    text += 'bob:x:4242:4242::/home/bob:/bin/sh\n';
    expect(resolve(4242)).toBe('uid:4242');
    now = 61_000;
    expect(resolve(4242)).toBe('bob');
    expect(reads).toBe(2);
  });

  it('survives an unreadable passwd file', () => {
    const resolve = createUserNameResolver({ readText: () => { throw new Error('EACCES'); }, homeRoots: [] });
    expect(resolve(77777)).toBe('uid:77777');
  });

  it('names uids that passwd does not list after the home folders they own (macOS, LDAP)', () => {
    const resolve = createUserNameResolver({
      readText: () => 'root:x:0:0::/root:/bin/sh\n',
      homeRoots: ['/Users', '/missing'],
      listDir: (d) => {
        if (d === '/Users') return ['Shared', 'alice', 'bob'];
        throw new Error('ENOENT');
      },
      ownerOf: (d) => ({ '/Users/Shared': 0, '/Users/alice': 501, '/Users/bob': 502 })[d] ?? null,
    });
    expect([resolve(0), resolve(501), resolve(502), resolve(503)]).toEqual(['root', 'alice', 'bob', 'uid:503']);
  });
});
