import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CliIo } from '../../../src/cli/command';
import { main } from '../../../src/cli/main';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise(() => undefined),
  };
  return { code: await main(argv, io), stdout, stderr };
}

describe('geosync config-schema', () => {
  test('prints the published JSON Schema', async () => {
    const result = await run('config-schema');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const file = path.join(__dirname, '../../../deploy/config/geosync.schema.json');
    expect(result.stdout).toBe(readFileSync(file, 'utf8'));
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'object', required: ['region', 'regions'] });
  });

  test('takes no arguments', async () => {
    const result = await run('config-schema', '--config', 'x.yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown flag --config');
  });
});
