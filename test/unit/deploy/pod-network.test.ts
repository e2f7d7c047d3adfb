/** The pod-network rules of pod-network.ts on small pods, so each rule is seen failing. */
import { listenedInPod, parseHostPort, podProblems, type Container, type Listener } from './pod-network';

const envoyListens: Listener[] = [
  { host: '0.0.0.0', port: 8443, tls: true, what: 'listener registry_ingress' },
  { host: '127.0.0.1', port: 9901, tls: false, what: 'admin' },
];
const listens = new Map([
  ['envoy', envoyListens],
  ['registry', [parseHostPort('127.0.0.1:5000', 'http.addr')]],
]);
const envoy = (c: Partial<Container>): Container => ({
  name: 'envoy',
  ports: [{ name: 'https', containerPort: 8443 }],
  ...c,
});

test.each<[string, Container, string[]]>([
  ['TCP probe of the listener by name', envoy({ readinessProbe: { tcpSocket: { port: 'https' } } }), []],
  [
    'HTTPS probe of the TLS listener',
    envoy({ readinessProbe: { httpGet: { path: '/v2/', port: 8443, scheme: 'HTTPS' } } }),
    [],
  ],
  [
    'HTTP probe of the TLS listener',
    envoy({ readinessProbe: { httpGet: { path: '/v2/', port: 8443 } } }),
    ['envoy readinessProbe: port 8443 of envoy speaks TLS (probe scheme HTTP)'],
  ],
  [
    'probe of the admin port, bound to loopback',
    envoy({ readinessProbe: { httpGet: { path: '/ready', port: 9901 } } }),
    [
      'envoy readinessProbe: envoy listens on port 9901 only at admin 127.0.0.1:9901, which the pod IP does not reach',
    ],
  ],
  [
    'probe with host 127.0.0.1 (the node, not the pod)',
    {
      name: 'registry',
      ports: [{ name: 'registry', containerPort: 5000 }],
      readinessProbe: { httpGet: { path: '/v2/', port: 5000, host: '127.0.0.1' } },
    },
    [
      'registry readinessProbe: host 127.0.0.1 is not this pod (the kubelet probes the pod IP)',
      'registry declares containerPort 5000: registry listens on port 5000 only at http.addr 127.0.0.1:5000, which the pod IP does not reach',
    ],
  ],
  [
    'probe of a port nothing listens on',
    envoy({ livenessProbe: { tcpSocket: { port: 8080 } } }),
    ['envoy livenessProbe: envoy does not listen on port 8080'],
  ],
  [
    'probe of an undeclared port name',
    envoy({ startupProbe: { tcpSocket: { port: 'admin' } } }),
    ['envoy startupProbe: port admin is not a named port of envoy'],
  ],
  [
    'exec probe',
    envoy({ readinessProbe: { exec: { command: ['true'] } } }),
    ['envoy readinessProbe: only httpGet, tcpSocket and grpc probes can be checked here'],
  ],
])('%s', (_name, container, expected) => {
  expect(podProblems([container], listens)).toEqual(expected);
});

test('host:port forms of a listen address', () => {
  expect(parseHostPort(':5000', 'a')).toMatchObject({ host: '', port: 5000 });
  expect(parseHostPort('[::]:9003', 'a')).toMatchObject({ host: '::', port: 9003 });
  expect(() => parseHostPort('5000', 'a')).toThrow('not host:port');
});

test('a connection inside the pod finds a listener on that address or on every address', () => {
  expect(listenedInPod(listens, { host: '127.0.0.1', port: 5000, tls: false, what: 'x' })).toBe(true);
  expect(listenedInPod(listens, { host: '127.0.0.1', port: 8443, tls: false, what: 'x' })).toBe(true);
  expect(listenedInPod(listens, { host: '127.0.0.1', port: 9002, tls: false, what: 'x' })).toBe(false);
});
