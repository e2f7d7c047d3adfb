/**
 * jest globalSetup of the projects that run Envoy: names the binaries the suites run on (printed,
 * and written to .envoy/used for scripts/test.sh's last lines) and fails at once, with the install
 * hint, when one is missing, instead of failing every test that starts an Envoy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envoyBinary } from './envoy';
import { ROOT } from '../clients/geosync-cli';

export default function setup(): void {
  const newest = envoyBinary('newest');
  const oldest = envoyBinary('oldest');
  const used = `Envoy ${newest.version} (${newest.path}) and ${oldest.version} (${oldest.path})`;
  process.stdout.write(`\nenvoy: ${used}\n`);
  fs.mkdirSync(path.join(ROOT, '.envoy'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.envoy', 'used'), `${used}\n`);
}
