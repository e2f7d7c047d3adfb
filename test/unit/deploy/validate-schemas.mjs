// Reads a JSON array of Kubernetes objects on stdin and prints, for each, the problem that
// kubernetes-models' validate() reports against the Kubernetes API schema ('' when valid; a kind
// kubernetes-models does not know is a problem too), or for a custom resource, its model package's. kubernetes-models is an ES module only, so
// the CommonJS jest suite (kubernetes.test.ts) runs this in a child process.
import { readFileSync } from 'node:fs';

const docs = JSON.parse(readFileSync(0, 'utf8'));
/** API groups outside Kubernetes' own, by the package that models them. */
const CRD_PACKAGES = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };
const problems = [];
for (const doc of docs) {
  let Model;
  try {
    // apiVersion "apps/v1" → kubernetes-models/apps/v1/Deployment; the core group "v1" → v1/Service.
    const pkg = CRD_PACKAGES[String(doc.apiVersion).split('/')[0]] ?? 'kubernetes-models';
    Model = (await import(`${pkg}/${doc.apiVersion}/${doc.kind}`))[doc.kind];
  } catch (err) {
    problems.push(`no model for ${doc.apiVersion} ${doc.kind}: ${err.message}`);
    continue;
  }
  try {
    new Model(doc).validate();
    problems.push('');
  } catch (err) {
    problems.push(String(err.message ?? err));
  }
}
process.stdout.write(JSON.stringify(problems));
