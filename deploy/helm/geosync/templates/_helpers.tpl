{{/* The release's object names: <release>-geosync unless the release name already says geosync. */}}
{{- define "geosync.fullname" -}}
{{- if contains "geosync" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-geosync" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "geosync.selectorLabels" -}}
app.kubernetes.io/name: geosync
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "geosync.labels" -}}
{{ include "geosync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The replicator's pods: never selected by the registry's Services or policies. */}}
{{- define "geosync.replicatorLabels" -}}
app.kubernetes.io/name: geosync-replicator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The port of a `host:port` listen address of the geosync configuration. */}}
{{- define "geosync.port" -}}
{{- splitList ":" . | last -}}
{{- end -}}

{{/* geosync.yaml as the pods read it. */}}
{{- define "geosync.configYaml" -}}
{{- if not .Values.config.region }}{{ fail "config.region is required" }}{{ end -}}
{{- if not (has .Values.mode (list "sidecar" "front")) }}{{ fail "mode must be sidecar or front" }}{{ end -}}
# Every key: README.md, "Configuration reference" (rendered by the geosync Helm chart).
{{ toYaml .Values.config }}
{{- end -}}

{{/* Environment of geosync and of the init container that renders Envoy's bootstrap: the same. */}}
{{- define "geosync.env" -}}
env:
  - { name: GEOSYNC_WORKERS, value: {{ .Values.geosync.workers | toString | quote }} }
{{- if or .Values.geosync.envFromSecrets .Values.geosync.optionalEnvFromSecrets }}
envFrom:
{{- range .Values.geosync.envFromSecrets }}
  - secretRef: { name: {{ . }} }
{{- end }}
{{- range .Values.geosync.optionalEnvFromSecrets }}
  - secretRef: { name: {{ . }}, optional: true }
{{- end }}
{{- end }}
{{- end -}}

{{/*
A container's securityContext under the Pod Security Standards' "restricted" profile
(https://kubernetes.io/docs/concepts/security/pod-security-standards/), for the numeric user and
group given: numeric, so the kubelet can check runAsNonRoot whatever user the image names; no
privilege gain, no capabilities, the runtime's default seccomp profile; a read-only root
filesystem, so whatever a container writes lands on a volume of the pod.
*/}}
{{- define "geosync.restrictedSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities: { drop: [ALL] }
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{/*
Seconds from the start of a pod's termination until its containers get SIGTERM: Envoy's drain,
then the requests still running. Envoy's and the registry's preStop hooks sleep this long, and
geosync's hook (which starts Envoy's drain) waits as long.
*/}}
{{- define "geosync.preStopSeconds" -}}
{{- add .Values.envoy.drainTimeSeconds .Values.envoy.inFlightGraceSeconds -}}
{{- end -}}

{{/*
The script of the geosync container's preStop hook (node -e): Envoy's image has no shell and no
HTTP client, so Node (the geosync image's, deploy/Dockerfile) asks Envoy's admin interface on the
pod's loopback to drain (https://www.envoyproxy.io/docs/envoy/latest/operations/admin#post--drain_listeners):
with `graceful` the listener keeps accepting for --drain-time-s while connections are told to
close, then closes (Envoy source/server/admin/listeners_handler.cc). The hook then waits until
Envoy gets SIGTERM, so geosync keeps answering Envoy meanwhile; a failed drain still waits, then
exits 1, which the kubelet reports as a FailedPreStopHook event with this output.
*/}}
{{- define "geosync.envoyDrainScript" -}}
{{- $admin := .Values.config.envoy.admin | default dict -}}
{{- $host := $admin.address | default "127.0.0.1" -}}
{{- if eq $host "0.0.0.0" }}{{ $host = "127.0.0.1" }}{{ else if eq $host "::" }}{{ $host = "::1" }}{{ end -}}
{{- if contains ":" $host }}{{ $host = printf "[%s]" $host }}{{ end -}}
const end = Date.now() + {{ include "geosync.preStopSeconds" . }} * 1000;
fetch('http://{{ $host }}:{{ $admin.port | default 9901 }}/drain_listeners?graceful', { method: 'POST', signal: AbortSignal.timeout(5000) })
  .then((r) => { console.log('envoy drain: HTTP', r.status); if (!r.ok) process.exitCode = 1; },
    (e) => { console.error('envoy drain failed:', e.message); process.exitCode = 1; })
  .finally(() => setTimeout(() => {}, Math.max(0, end - Date.now())));
{{- end -}}

{{/*
Fails unless terminationGracePeriodSeconds covers the preStop hooks, then geosync's drainMs, plus
5 s for the processes to exit: the kubelet kills whatever still runs when it ends.
*/}}
{{- define "geosync.checkGracePeriod" -}}
{{- $drainMs := 5000 -}}
{{- if hasKey .Values.config "drainMs" }}{{ $drainMs = .Values.config.drainMs }}{{ end -}}
{{- $needed := add (include "geosync.preStopSeconds" . | int) (div (add $drainMs 999) 1000) 5 -}}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be at least %v: envoy.drainTimeSeconds (%v) + envoy.inFlightGraceSeconds (%v) + config.drainMs (%v ms, rounded up) + 5 s for the processes to exit" .Values.terminationGracePeriodSeconds $needed .Values.envoy.drainTimeSeconds .Values.envoy.inFlightGraceSeconds $drainMs) -}}
{{- end -}}
{{- end -}}
