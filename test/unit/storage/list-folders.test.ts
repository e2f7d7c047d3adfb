import { listFolders, type FolderPage } from '../../../src/storage/bounded-request';
import { byFolder, folderAfter, probeError, type ProbeMiss } from '../../../src/storage/probe';

const FULL = 'docker/registry/v2/repositories/team/app/_manifests/tags/';

/** A store holding `names` under FULL (listed in folder order), answering `pageSize` prefixes per page at most. */
function store(names: string[], pageSize: number) {
  const sorted = [...names].sort(byFolder);
  const asked: { token: string | undefined; limit: number }[] = [];
  const page = async (token: string | undefined, limit: number): Promise<FolderPage> => {
    asked.push({ token, limit });
    const from = token ? Number(token) : 0;
    const n = Math.min(limit, pageSize);
    const next = from + n < sorted.length ? String(from + n) : undefined;
    return { prefixes: sorted.slice(from, from + n).map((t) => `${FULL}${t}/`), next };
  };
  return { page, asked };
}

test('pages until the last page; names without the prefix and slash, in folder order', async () => {
  const names = ['v3', 'v1', 'latest', 'v2', 'a-1', 'v1-rc', 'v1.0'];
  const s = store(names, 2);
  expect(await listFolders(FULL, { max: 100 }, s.page)).toEqual({
    status: 'found',
    // `v1-rc/` and `v1.0/` sort before `v1/`: the order the stores list them in.
    names: ['a-1', 'latest', 'v1-rc', 'v1.0', 'v1', 'v2', 'v3'],
  });
  expect(s.asked.map((a) => a.token)).toEqual([undefined, '2', '4', '6']);
});

test('stops past max, asking no more than one name beyond it, and says more remain', async () => {
  const s = store(['a', 'b', 'c', 'd', 'e'], 2);
  expect(await listFolders(FULL, { max: 3 }, s.page)).toEqual({
    status: 'found',
    names: ['a', 'b', 'c'],
    more: true,
  });
  expect(s.asked.map((a) => a.limit)).toEqual([4, 2]);
  // Exactly max names: nothing more to say.
  expect(await listFolders(FULL, { max: 5 }, store(['a', 'b', 'c', 'd', 'e'], 2).page)).toEqual({
    status: 'found',
    names: ['a', 'b', 'c', 'd', 'e'],
  });
});

test('names whose folder does not sort after startAfter are dropped, also from a store that ignores it', async () => {
  const names = ['v1', 'v1-rc', 'v1.0', 'v10', 'v2', 'a'];
  // After the tag `v1`: every tag above v1 (v1-rc, v1.0, v10, v2), and v1 itself (`v1/` > `v1`).
  expect(await listFolders(FULL, { max: 100, startAfter: 'v1' }, store(names, 2).page)).toEqual({
    status: 'found',
    names: ['v1-rc', 'v1.0', 'v1', 'v10', 'v2'],
  });
  // After the folder v1 (`v1/~`): what S3 lists after every key below `v1/`.
  expect(await listFolders(FULL, { max: 1, startAfter: 'v1/~' }, store(names, 2).page)).toEqual({
    status: 'found',
    names: ['v10'],
    more: true,
  });
});

test('a page that fails fails the listing', async () => {
  const s = store(['a', 'b', 'c'], 1);
  let pages = 0;
  const failing = async (token: string | undefined, limit: number): Promise<FolderPage | ProbeMiss> =>
    ++pages === 2 ? probeError('timeout', 'no answer') : s.page(token, limit);
  expect(await listFolders(FULL, { max: 10 }, failing)).toEqual(probeError('timeout', 'no answer'));
});

test('an empty store, an empty token and an undefined prefix end the listing cleanly', async () => {
  expect(await listFolders(FULL, { max: 10 }, async () => ({ prefixes: [], next: '' }))).toEqual({
    status: 'found',
    names: [],
  });
  expect(await listFolders(FULL, { max: 10 }, async () => ({ prefixes: [undefined, `${FULL}v1/`] }))).toEqual(
    {
      status: 'found',
      names: ['v1'],
    },
  );
});

test('folder order and folderAfter', () => {
  expect(['v1', 'v1-rc', 'v10', 'v1.0', 'v1_x'].sort(byFolder)).toEqual([
    'v1-rc',
    'v1.0',
    'v1',
    'v10',
    'v1_x',
  ]);
  expect(folderAfter('v1', undefined)).toBe(true);
  expect(folderAfter('v1', 'v1')).toBe(true);
  expect(folderAfter('v1', 'v1/~')).toBe(false);
  expect(folderAfter('v1-rc', 'v1')).toBe(true);
  expect(folderAfter('v0', 'v1')).toBe(false);
});
