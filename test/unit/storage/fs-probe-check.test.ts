import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsProbe } from '../../../src/storage/fs-probe';

test('FsProbe.check: quiet for a directory, names a missing or non-directory root', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fs-check-'));
  const file = path.join(dir, 'file');
  writeFileSync(file, 'x');
  expect(await new FsProbe('a', dir).check({ signal: new AbortController().signal })).toBeUndefined();
  expect(
    await new FsProbe('a', path.join(dir, 'missing')).check({ signal: new AbortController().signal }),
  ).toBe(`storage root ${path.join(dir, 'missing')} is not readable (ENOENT)`);
  expect(await new FsProbe('a', file).check({ signal: new AbortController().signal })).toBe(
    `storage root ${file} is not a directory`,
  );
  rmSync(dir, { recursive: true, force: true });
});
