/**
 * The Helm chart's values.schema.json (deploy/helm/geosync): the chart's own values, declared
 * here, and under `config` geosync's configuration schema itself (src/config/json-schema.ts), so
 * `helm install` and `helm lint` refuse a geosync key geosync would refuse.
 */
import { configJsonSchema } from '../../src/config/json-schema';

type Json = Record<string, unknown>;

const str: Json = { type: 'string' };
const image = (what: string): Json => ({
  description: `${what} image`,
  type: 'object',
  properties: { repository: str, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } },
  additionalProperties: false,
});
const obj: Json = { type: 'object' };
const list: Json = { type: 'array' };
const bool: Json = { type: 'boolean' };
const names: Json = { type: 'array', items: { type: 'string', minLength: 1 } };
const seconds: Json = { type: 'integer', minimum: 0 };
/**
 * A NetworkPolicyPeer (https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/):
 * never empty, since a rule with an empty peer would admit every source.
 */
const networkPolicyPeer: Json = {
  type: 'object',
  properties: {
    podSelector: obj,
    namespaceSelector: obj,
    ipBlock: { type: 'object', required: ['cidr'], properties: { cidr: str, except: names } },
  },
  minProperties: 1,
  additionalProperties: false,
};

export function helmValuesSchema(): Json {
  const { $schema, title: _title, ...config } = configJsonSchema();
  return {
    $schema,
    title: 'geosync Helm chart values',
    type: 'object',
    required: ['mode', 'config'],
    properties: {
      mode: { enum: ['sidecar', 'front'] },
      replicaCount: { type: 'integer', minimum: 0 },
      image: image('geosync'),
      geosync: {
        type: 'object',
        properties: {
          workers: { type: 'integer', minimum: 0, maximum: 256 },
          envFromSecrets: names,
          optionalEnvFromSecrets: names,
          extraVolumeMounts: list,
          extraVolumes: list,
          resources: obj,
        },
        additionalProperties: false,
      },
      envoy: {
        type: 'object',
        properties: {
          image: image('Envoy'),
          drainTimeSeconds: { ...seconds, description: "Envoy's --drain-time-s, when the pod stops" },
          inFlightGraceSeconds: {
            ...seconds,
            description: "after Envoy's drain, how long running requests get before SIGTERM",
          },
          resources: obj,
        },
        additionalProperties: false,
      },
      registry: {
        type: 'object',
        properties: {
          image: image('registry'),
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          env: list,
          extraVolumeMounts: list,
          extraVolumes: list,
          runAsRoot: { ...bool, description: "run the registry as its image's user instead of 65532" },
          resources: obj,
        },
        additionalProperties: false,
      },
      tlsSecretName: str,
      service: {
        type: 'object',
        properties: {
          type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
        },
        additionalProperties: false,
      },
      terminationGracePeriodSeconds: seconds,
      podDisruptionBudget: {
        type: 'object',
        properties: { enabled: bool, maxUnavailable: { type: ['integer', 'string'] } },
        additionalProperties: false,
      },
      networkPolicy: {
        type: 'object',
        properties: {
          enabled: bool,
          adminFrom: {
            description: "the peers admitted to geosync's admin port besides the pod itself and its node",
            type: 'array',
            items: networkPolicyPeer,
          },
        },
        additionalProperties: false,
      },
      serviceMonitor: {
        type: 'object',
        properties: { enabled: bool, interval: str, labels: obj },
        additionalProperties: false,
      },
      replication: {
        type: 'object',
        properties: {
          enabled: bool,
          image: image('skopeo'),
          schedule: str,
          destination: str,
          sources: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'host'],
              properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, host: str },
              additionalProperties: false,
            },
          },
          credentialsSecret: str,
        },
        additionalProperties: false,
      },
      podAnnotations: obj,
      nodeSelector: obj,
      tolerations: list,
      affinity: obj,
      config: { ...config, description: 'geosync.yaml (docs/configuration.md)' },
    },
    additionalProperties: false,
  };
}

export function helmValuesSchemaText(): string {
  return `${JSON.stringify(helmValuesSchema(), null, 2)}\n`;
}
