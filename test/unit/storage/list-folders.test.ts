import { listFolders, type FolderPage } from '../../../src/storage/bounded-request';

const FULL = 'docker/registry/v2/repositories/team/app/_manifests/tags/';

/** A store holding `names` under FULL, answering `pageSize` prefixes per page at most. */
function store(names: string[], pageSize: number) {
  const asked: { token: string | undefined; limit: number }[] = [];
  const page = async (token: string | undefined, limit: number): Promise<FolderPage> => {
    asked.push({ token, limit });
    const from = token ? Number(token) : 0;
    const n = Math.min(limit, pageSize);
    const next = from + n < names.length ? String(from + n) : undefined;
    return { prefixes: names.slice(from, from + n).map((t) => `${FULL}${t}/`), next };
  };
  return { page, asked };
}

test('pages until the last page; names without the prefix and slash, in lexical order', async () => {
  const names = ['v3', 'v1', 'latest', 'v2', 'a-1'];
  const s = store(names, 2);
  expect(await listFolders(FULL, 100, s.page)).toEqual({
    status: 'found',
    names: ['a-1', 'latest', 'v1', 'v2', 'v3'],
  });
  expect(s.asked.map((a) => a.token)).toEqual([undefined, '2', '4']);
});

test('stops at max, asking no more than it still needs', async () => {
  const s = store(['a', 'b', 'c', 'd', 'e'], 2);
  expect(await listFolders(FULL, 3, s.page)).toEqual({ status: 'found', names: ['a', 'b', 'c'] });
  expect(s.asked.map((a) => a.limit)).toEqual([3, 1]);
});

test('an empty store, an empty token and an undefined prefix end the listing cleanly', async () => {
  expect(await listFolders(FULL, 10, async () => ({ prefixes: [], next: '' }))).toEqual({
    status: 'found',
    names: [],
  });
  expect(await listFolders(FULL, 10, async () => ({ prefixes: [undefined, `${FULL}v1/`] }))).toEqual({
    status: 'found',
    names: ['v1'],
  });
});
