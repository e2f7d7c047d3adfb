// Reads a JSON array of Kubernetes objects on stdin and prints, for each, the problem that
// kubernetes-models' validate() reports against the Kubernetes API schema ('' when valid; a kind
// kubernetes-models does not know is a problem too). kubernetes-models is an ES module only, so
// the CommonJS jest suite (kubernetes.test.ts) runs this in a child process.
import { readFileSync } from 'node:fs';

const docs = JSON.parse(readFileSync(0, 'utf8'));
const problems = [];
for (const doc of docs) {
  let Model;
  try {
    // apiVersion "apps/v1" → kubernetes-models/apps/v1/Deployment; the core group "v1" → v1/Service.
    Model = (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`))[doc.kind];
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
