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
